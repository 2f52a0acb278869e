import { ErrorCode, WalError } from "./errors.ts";
import type { NamespaceConfig } from "./namespace-config.ts";

/** A namespace as stored: its validated config (defaults filled) and its version. */
export interface NamespaceRecord {
  name: string;
  /** 1 at creation; every change (update, delete, rollback, re-creation) adds 1. */
  version: number;
  config: NamespaceConfig;
  /** ISO 8601. When this namespace was created (again, if it had been deleted). */
  createdAt: string;
  /** ISO 8601. */
  updatedAt: string;
}

export type NamespaceAction = "create" | "update" | "delete" | "rollback";

/** One entry of a namespace's audit trail: the change that made `version`. */
export interface NamespaceChange {
  namespace: string;
  version: number;
  action: NamespaceAction;
  actor: string;
  /** ISO 8601. */
  at: string;
  /** Config before the change; null for a creation. */
  before: NamespaceConfig | null;
  /** Config after the change; null for a deletion. */
  after: NamespaceConfig | null;
  /** For a rollback, the version whose config it restored; otherwise null. */
  rolledBackTo: number | null;
}

/** Who makes a change, as recorded in the audit trail. */
export interface ChangeContext {
  actor: string;
}

/** A create or update that may be tried without storing anything. */
export interface ProposedChange extends ChangeContext {
  /** Run every check and answer what would be stored, but store nothing. @default false */
  dryRun?: boolean;
}

/**
 * The namespaces' source of truth. Every config is validated with core's
 * `parseNamespaceConfig` before it is stored, so whatever a store holds, the
 * gateway and the processor accept.
 *
 * Writes take the version the caller last read (`expectedVersion`) and fail
 * with `NamespaceConflictError` (carrying the current version) when it moved
 * on, so two admins never overwrite each other unknowingly. Each change and its
 * audit entry are stored together or not at all.
 *
 * Errors: WAL_INVALID_CONFIG (naming the field), WAL_INVALID_ARGUMENT,
 * WAL_NAMESPACE_NOT_FOUND, WAL_NAMESPACE_EXISTS, WAL_NAMESPACE_CONFLICT,
 * WAL_STORE_UNAVAILABLE.
 */
export interface NamespaceStore {
  /** Creates a namespace at version 1, or re-creates a deleted one at its next version. */
  create(config: unknown, change: ProposedChange): Promise<NamespaceRecord>;
  /** A live (not deleted) namespace. */
  get(name: string): Promise<NamespaceRecord>;
  /** Live namespaces, by name. */
  list(): Promise<NamespaceRecord[]>;
  /** Replaces the config; `config.name` must be `name` (renaming is not supported). */
  update(
    name: string,
    config: unknown,
    expectedVersion: number,
    change: ProposedChange,
  ): Promise<NamespaceRecord>;
  /** Deletes a namespace; its history stays readable. Answers the deletion's audit entry. */
  delete(name: string, expectedVersion: number, change: ChangeContext): Promise<NamespaceChange>;
  /** Every change of a namespace, deleted or not, oldest first. */
  history(name: string): Promise<NamespaceChange[]>;
  /** Stores the config of an earlier version as a new version; history keeps every version. */
  rollback(
    name: string,
    toVersion: number,
    expectedVersion: number,
    change: ChangeContext,
  ): Promise<NamespaceRecord>;
}

/** An update, delete or rollback named a version that is no longer the namespace's current one. */
export class NamespaceConflictError extends WalError {
  readonly currentVersion: number;

  constructor(name: string, expectedVersion: number, currentVersion: number) {
    super(
      ErrorCode.namespaceConflict,
      `namespace '${name}' is at version ${currentVersion}, not ${expectedVersion}: it changed since you read it. Get it again, redo your change on that version, and send expectedVersion ${currentVersion}.`,
      { field: "expectedVersion" },
    );
    this.currentVersion = currentVersion;
  }
}

export function namespaceNotFound(name: string, deletedAtVersion?: number): WalError {
  const why =
    deletedAtVersion === undefined
      ? "does not exist"
      : `was deleted (version ${deletedAtVersion}); its history is still readable`;
  return new WalError(
    ErrorCode.namespaceNotFound,
    `namespace '${name}' ${why}. List the namespaces to check the name, or create it.`,
    { field: "name" },
  );
}
