import { createHash } from "node:crypto";
import { formatDuration } from "./durations.ts";
import type { Operation, WalEntry } from "./envelope.ts";
import { ErrorCode, WalError } from "./errors.ts";
import { type NamespaceConfig, type TargetConfig, topicRetentionMs } from "./namespace-config.ts";
import { targetLimitProblem } from "./target-limits.ts";

/** A WriteToLog request after its transport (gRPC or HTTP) has decoded it. */
export interface WriteRequest {
  namespace: string;
  key: string;
  idempotencyKey: string;
  payload: Buffer;
  lifecycle: { delayMs: number; deliverAtMs: number; ttlMs: number; jitterMs?: number };
  target: { name: string; operation: string; resource: string };
  /** Who sent it, when the transport authenticated the caller (mutual TLS); absent otherwise. */
  client?: { name: string };
}

export const maxIdempotencyKeyLength = 256;

function isOperation(value: string): value is Operation {
  return value === "UPSERT" || value === "DELETE";
}

function invalid(field: string, reason: string): WalError {
  return new WalError(ErrorCode.invalidArgument, `${field} ${reason}`, { field });
}

/**
 * Id of an entry. A write that carries an idempotency key gets an id derived
 * from it, so a retried write yields the same id and targets apply it once.
 */
export function entryIdFor(namespace: string, idempotencyKey: string): string {
  if (idempotencyKey === "") return crypto.randomUUID();
  const hex = createHash("sha256").update(`${namespace}\u0000${idempotencyKey}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A namespace that lists `allowedClients` takes writes only from those, authenticated. */
function requireAllowedClient(ns: NamespaceConfig, client: WriteRequest["client"]): void {
  if (ns.allowedClients.length === 0) return;
  if (client === undefined) {
    throw new WalError(
      ErrorCode.clientNotAllowed,
      `namespace '${ns.name}' takes writes only from the clients it lists (allowedClients), and this call did not authenticate its client; write over gRPC with a client certificate to a gateway serving mutual TLS (--tls-client-ca)`,
      { field: "namespace" },
    );
  }
  if (!ns.allowedClients.includes(client.name)) {
    throw new WalError(
      ErrorCode.clientNotAllowed,
      `client '${client.name}' may not write to namespace '${ns.name}'; add it to the namespace's allowedClients, or use a certificate it lists`,
      { field: "namespace" },
    );
  }
}

/**
 * Checks a write against its namespace's config and builds the log entry.
 * Pure: the clock and the namespace lookup are passed in.
 * Throws WalError (WAL_NAMESPACE_NOT_FOUND, WAL_CLIENT_NOT_ALLOWED,
 * WAL_INVALID_ARGUMENT, WAL_PAYLOAD_TOO_LARGE, WAL_TARGET_NOT_ALLOWED)
 * naming the field at fault.
 */
export function buildEntry(
  request: WriteRequest,
  findNamespace: (name: string) => NamespaceConfig | undefined,
  nowMs: number,
  random: () => number = Math.random,
): WalEntry {
  if (request.namespace === "") throw invalid("namespace", "is required");
  const ns = findNamespace(request.namespace);
  if (ns === undefined) {
    throw new WalError(
      ErrorCode.namespaceNotFound,
      `namespace '${request.namespace}' does not exist; create it in the topology before writing to it`,
      { field: "namespace" },
    );
  }
  requireAllowedClient(ns, request.client);

  if (request.key === "" && ns.limits.requireKey) {
    throw invalid(
      "key",
      `is required by namespace '${ns.name}' (it orders entries and scopes actors)`,
    );
  }
  const keyBytes = Buffer.byteLength(request.key);
  if (keyBytes > ns.limits.maxKeyBytes) {
    throw invalid(
      "key",
      `is ${keyBytes} bytes; namespace '${ns.name}' allows at most ${ns.limits.maxKeyBytes}`,
    );
  }
  if (request.idempotencyKey.length > maxIdempotencyKeyLength) {
    throw invalid("idempotency_key", `is longer than ${maxIdempotencyKeyLength} characters`);
  }
  if (request.payload.length > ns.limits.maxPayloadBytes) {
    throw new WalError(
      ErrorCode.payloadTooLarge,
      `payload is ${request.payload.length} bytes; namespace '${ns.name}' allows at most ${ns.limits.maxPayloadBytes}`,
      { field: "payload" },
    );
  }

  const dueAtMs = dueTime(request.lifecycle, nowMs, random);
  const { ttlMs } = request.lifecycle;
  const expiresAtMs = ttlMs > 0 ? nowMs + ttlMs : null;
  if (expiresAtMs !== null && dueAtMs !== null && expiresAtMs <= dueAtMs) {
    throw invalid(
      "lifecycle.ttl_ms",
      `ends before the delivery time the write asks for; make ttl_ms longer than the delay`,
    );
  }

  const operation = request.target.operation;
  if (!isOperation(operation))
    throw invalid("target.operation", `must be UPSERT or DELETE, got '${operation}'`);

  const targetName = request.target.name === "" ? ns.defaultTarget : request.target.name;
  if (!Object.hasOwn(ns.targets, targetName)) {
    throw new WalError(
      ErrorCode.targetNotAllowed,
      `target.name '${targetName}' is not a target of namespace '${ns.name}'; use one of: ${Object.keys(ns.targets).join(", ")}`,
      { field: "target.name" },
    );
  }

  const problem = targetLimitProblem(
    ns.targets[targetName] as TargetConfig,
    request.target.resource === "" ? request.key : request.target.resource,
    request.payload.length,
  );
  if (problem !== undefined) {
    const field =
      problem.field === "key" && request.target.resource !== "" ? "target.resource" : problem.field;
    throw invalid(field, `${problem.reason} (target '${targetName}')`);
  }

  return {
    id: entryIdFor(ns.name, request.idempotencyKey),
    namespace: ns.name,
    key: request.key,
    createdAtMs: nowMs,
    lifecycle: { dueAtMs, expiresAtMs },
    target: {
      name: targetName,
      operation,
      resource: request.target.resource === "" ? null : request.target.resource,
    },
    idempotencyKey: request.idempotencyKey === "" ? null : request.idempotencyKey,
    attempts: [],
    originRegion: null,
    payload: request.payload,
  };
}

/**
 * When a delayed write falls due (null: now), jitter included. A delay must
 * fit in what the namespace's topics retain.
 */
function dueTime(
  lifecycle: WriteRequest["lifecycle"],
  nowMs: number,
  random: () => number,
): number | null {
  const { delayMs, deliverAtMs, ttlMs } = lifecycle;
  const jitterMs = lifecycle.jitterMs ?? 0;
  if (delayMs < 0) throw invalid("lifecycle.delay_ms", "cannot be negative");
  if (deliverAtMs < 0) throw invalid("lifecycle.deliver_at_ms", "cannot be negative");
  if (ttlMs < 0) throw invalid("lifecycle.ttl_ms", "cannot be negative");
  if (jitterMs < 0) throw invalid("lifecycle.jitter_ms", "cannot be negative");
  if (delayMs > 0 && deliverAtMs > 0) {
    throw invalid("lifecycle", "sets both delay_ms and deliver_at_ms; set one of them");
  }
  if (jitterMs > 0 && delayMs === 0 && deliverAtMs === 0) {
    throw invalid(
      "lifecycle.jitter_ms",
      "spreads a delayed delivery; set delay_ms or deliver_at_ms too",
    );
  }
  const asked = delayMs > 0 ? nowMs + delayMs : deliverAtMs > nowMs ? deliverAtMs : null;
  if (asked === null) return null;
  const dueAtMs = asked + Math.floor(random() * jitterMs);
  if (dueAtMs - nowMs > topicRetentionMs) {
    const field = delayMs > 0 ? "lifecycle.delay_ms" : "lifecycle.deliver_at_ms";
    throw invalid(
      field,
      `asks for delivery in ${formatDuration(dueAtMs - nowMs)} (jitter included); the namespace's topics keep entries ${formatDuration(topicRetentionMs)}, so ask for at most that`,
    );
  }
  return dueAtMs;
}
