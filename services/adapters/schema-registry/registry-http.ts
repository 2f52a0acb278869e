import {
  type CompatibilityLevel,
  describeError,
  ErrorCode,
  registryMediaType,
  WalError,
} from "../../core/index.ts";
import { basicAuthorization, registryEndpoint, safeForSecrets } from "./endpoint.ts";

/** A subject version as the registry answers it. */
export interface RegistryVersion {
  subject: string;
  version: number;
  id: number;
  schema: string;
}

export interface RegistryHttpOptions {
  /** Per-request timeout. @default 5000 */
  timeoutMs?: number;
  /**
   * Sent as the HTTP Basic password when the URL carries no credentials (the
   * control plane's admin token); only over https or to this machine.
   */
  token?: string;
}

/**
 * The calls of the Confluent Schema Registry REST API that WAL's own tools
 * make (the gateway's reads, `wal schema check` and `wal schema register`),
 * over fetch with a timeout. 404 answers are "not there" (undefined or
 * empty); an unreachable registry or a 5xx is WAL_REGISTRY_UNAVAILABLE.
 */
export class RegistryHttp {
  /** The registry's URL without credentials, for messages. */
  readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(url: string, options: RegistryHttpOptions = {}) {
    const { base, auth } = registryEndpoint(url);
    this.base = base;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    const token = options.token ?? "";
    const credentials =
      auth ??
      (token !== "" && safeForSecrets(base) ? { username: "wal", password: token } : undefined);
    this.headers =
      credentials === undefined ? {} : { authorization: basicAuthorization(credentials) };
  }

  /** A GET's JSON body; undefined when the registry answers 404; any other refusal is WAL_REGISTRY_UNAVAILABLE. */
  async get<T>(path: string): Promise<T | undefined> {
    const { status, body } = await this.call("GET", path);
    return status === 404 ? undefined : (body as T);
  }

  /** The subject's live versions, oldest first; none when the subject does not exist. */
  async versions(subject: string): Promise<number[]> {
    return (await this.get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)) ?? [];
  }

  version(subject: string, version: number | "latest"): Promise<RegistryVersion | undefined> {
    return this.get<RegistryVersion>(
      `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
    );
  }

  /** The level the registry applies to a subject (its own, else the global one). */
  async level(subject: string): Promise<CompatibilityLevel | undefined> {
    const answer = await this.get<{ compatibilityLevel?: CompatibilityLevel }>(
      `/config/${encodeURIComponent(subject)}?defaultToGlobal=true`,
    );
    return answer?.compatibilityLevel;
  }

  async setSubjectLevel(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  /** Registers a schema (JSON text) under a subject; answers its id (the same when already there). */
  async register(subject: string, schema: string): Promise<number> {
    const { body } = await this.call("POST", `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema,
    });
    return (body as { id: number }).id;
  }

  /** Deletes a subject for good (a soft delete, then the permanent one). */
  async deleteSubject(subject: string): Promise<void> {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    await this.call("DELETE", path);
    await this.call("DELETE", `${path}?permanent=true`);
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          accept: registryMediaType,
          ...(body === undefined ? {} : { "content-type": registryMediaType }),
          ...this.headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw this.unavailable(describeError(cause), cause);
    }
    const text = await response.text();
    if (response.status >= 500) {
      throw this.unavailable(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw this.unavailable(`HTTP ${response.status} with a body that is not JSON`);
    }
    if (response.ok || (response.status === 404 && method === "GET")) {
      return { status: response.status, body: parsed };
    }
    // A read refused (credentials, a proxy) says nothing about the caller's request.
    if (method === "GET") {
      throw this.unavailable(`GET ${path} answered ${response.status}: ${messageOf(parsed)}`);
    }
    throw this.refused(method, path, response.status, parsed);
  }

  private refused(method: string, path: string, status: number, body: unknown): WalError {
    const said = `${method} ${path} answered ${status}: ${messageOf(body)}`;
    if (status === 401 || status === 403) {
      return new WalError(
        ErrorCode.unauthorized,
        `the schema registry at ${this.base} refused the change (${said}); give the control plane's admin token (WAL_ADMIN_TOKEN; sent only over https or to this machine) or credentials in the registry URL`,
      );
    }
    if (status === 409) {
      return new WalError(
        ErrorCode.schemaIncompatible,
        `the schema registry at ${this.base} refused an incompatible schema (${said}); run 'wal schema check --registry ${this.base}' for the details`,
      );
    }
    return new WalError(
      ErrorCode.invalidArgument,
      `the schema registry at ${this.base} refused the request (${said})`,
    );
  }

  private unavailable(reason: string, cause?: unknown): WalError {
    return new WalError(
      ErrorCode.registryUnavailable,
      `the schema registry at ${this.base} did not answer as expected (${reason}); check that it runs, the registry URL (WAL_SCHEMA_REGISTRY_URL) and its credentials, then retry`,
      { canRetry: true, ...(cause === undefined ? {} : { cause }) },
    );
  }
}

function messageOf(body: unknown): string {
  return String((body as { message?: unknown } | undefined)?.message ?? "");
}
