import {
  describeError,
  ErrorCode,
  type NamespaceChange,
  type NamespaceRecord,
  type RedriveRecord,
  WalError,
} from "../core/index.ts";
import type { ListedDeadLetter, RedriveResult } from "../dead-letters/index.ts";
import { actorHeader } from "./auth.ts";
import type { ErrorBody } from "./http-api.ts";

export interface ControlPlaneClientOptions {
  /** Base URL of the control plane, e.g. http://127.0.0.1:8090. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; left out when undefined. */
  adminToken?: string;
  /** Recorded in the audit trail as who made the change. */
  actor: string;
  /** @default 10000 */
  timeoutMs?: number;
}

export type DryRunRecord = NamespaceRecord & { dryRun: true };

/** Which dead letters to list or redrive; times are ISO 8601. */
export interface DeadLetterQuery {
  ids?: string[];
  key?: string;
  code?: string;
  from?: string;
  to?: string;
}

/** Typed calls to the namespaces admin API; a refusal throws a WalError with the server's code and field. */
export class ControlPlaneClient {
  constructor(private readonly options: ControlPlaneClientOptions) {}

  async list(): Promise<NamespaceRecord[]> {
    const { namespaces } = await this.call<{ namespaces: NamespaceRecord[] }>(
      "GET",
      "/v1/namespaces",
    );
    return namespaces;
  }

  get(name: string): Promise<NamespaceRecord> {
    return this.call("GET", namespacePath(name));
  }

  create(config: unknown, dryRun = false): Promise<NamespaceRecord | DryRunRecord> {
    return this.call("POST", `/v1/namespaces${dryRunQuery(dryRun)}`, config);
  }

  update(
    name: string,
    config: unknown,
    expectedVersion: number,
    dryRun = false,
  ): Promise<NamespaceRecord | DryRunRecord> {
    return this.call("PUT", `${namespacePath(name)}${dryRunQuery(dryRun)}`, {
      config,
      expectedVersion,
    });
  }

  delete(name: string, expectedVersion: number): Promise<NamespaceChange> {
    return this.call("DELETE", `${namespacePath(name)}?expectedVersion=${expectedVersion}`);
  }

  async history(name: string): Promise<NamespaceChange[]> {
    const { changes } = await this.call<{ changes: NamespaceChange[] }>(
      "GET",
      `${namespacePath(name)}/history`,
    );
    return changes;
  }

  rollback(name: string, toVersion: number, expectedVersion: number): Promise<NamespaceRecord> {
    return this.call("POST", `${namespacePath(name)}/rollback`, { toVersion, expectedVersion });
  }

  deadLetters(
    name: string,
    filter: DeadLetterQuery & { limit?: number },
  ): Promise<{ total: number; deadLetters: ListedDeadLetter[] }> {
    const query = new URLSearchParams();
    for (const id of filter.ids ?? []) query.append("id", id);
    for (const field of ["key", "code", "from", "to", "limit"] as const) {
      const value = filter[field];
      if (value !== undefined) query.set(field, String(value));
    }
    const suffix = query.size > 0 ? `?${query}` : "";
    return this.call("GET", `${namespacePath(name)}/dead-letters${suffix}`);
  }

  async deadLetter(name: string, id: string): Promise<ListedDeadLetter[]> {
    const { deadLetters } = await this.call<{ deadLetters: ListedDeadLetter[] }>(
      "GET",
      `${namespacePath(name)}/dead-letters/${encodeURIComponent(id)}`,
    );
    return deadLetters;
  }

  redrive(
    name: string,
    request: DeadLetterQuery & {
      all?: boolean;
      dryRun?: boolean;
      ratePerSecond?: number;
      includeRedriven?: boolean;
    },
  ): Promise<RedriveResult> {
    const { ids, ...rest } = request;
    return this.call("POST", `${namespacePath(name)}/dead-letters/redrive`, {
      ...(ids === undefined ? {} : { id: ids }),
      ...rest,
    });
  }

  async redrives(name: string): Promise<RedriveRecord[]> {
    const { redrives } = await this.call<{ redrives: RedriveRecord[] }>(
      "GET",
      `${namespacePath(name)}/dead-letters/redrives`,
    );
    return redrives;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { url, adminToken, actor, timeoutMs = 10_000 } = this.options;
    const target = new URL(path, url);
    const headers: Record<string, string> = { [actorHeader]: actor };
    if (adminToken !== undefined) headers.authorization = `Bearer ${adminToken}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new WalError(
        ErrorCode.controlPlaneUnavailable,
        `no control plane answers at ${url} (${describeError(causeOf(error))}); start one with 'wal control-plane', or point --url (WAL_CONTROL_PLANE_URL) at one`,
        { cause: error, canRetry: true },
      );
    }
    const text = await response.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new WalError(
        ErrorCode.internal,
        `${method} ${target} answered ${response.status} with a body that is not JSON; check that ${url} is a WAL control plane`,
      );
    }
    if (!response.ok) throw refusal(answer, response.status);
    return answer as T;
  }
}

function namespacePath(name: string): string {
  return `/v1/namespaces/${encodeURIComponent(name)}`;
}

function dryRunQuery(dryRun: boolean): string {
  return dryRun ? "?dryRun=true" : "";
}

/** fetch reports every network failure as "fetch failed"; the reason is its cause. */
function causeOf(error: unknown): unknown {
  return error instanceof Error && error.cause !== undefined ? error.cause : error;
}

function refusal(answer: unknown, status: number): WalError {
  const body = answer as Partial<ErrorBody>;
  if (typeof body.code !== "string" || typeof body.message !== "string") {
    return new WalError(
      ErrorCode.internal,
      `the control plane answered ${status}: ${JSON.stringify(answer)}`,
    );
  }
  return new WalError(body.code as ErrorCode, body.message, { field: body.field ?? "" });
}
