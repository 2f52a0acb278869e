import {
  describeError,
  type NamespaceChange,
  type NamespaceRecord,
  type NamespaceStore,
} from "../core/index.ts";
import type { Logger } from "../observability/index.ts";

/** Tells running services that namespace `name` is now at `version` (e.g. over NATS). */
export type AnnounceNamespaceChange = (change: { name: string; version: number }) => Promise<void>;

/**
 * A store that announces each committed change (create, update, delete,
 * rollback; never a dry run) once it is committed. Announcing is best effort
 * and never delays or fails the change: a change that could not be announced
 * is logged, and the services pick it up at their next resync from the store.
 */
export function announcingStore(
  store: NamespaceStore,
  announce: AnnounceNamespaceChange,
  logger: Logger,
): NamespaceStore {
  const announced = (name: string, version: number): void => {
    let announcing: Promise<void>;
    try {
      announcing = announce({ name, version });
    } catch (error) {
      // The change is committed whatever the announcer does: never let it fail the answer.
      announcing = Promise.reject(error);
    }
    announcing.catch((error: unknown) =>
      // An expected condition while NATS is down: the reason, without a stack trace.
      logger.warn(
        { namespace: name, version, reason: describeError(error) },
        `namespace change committed but not announced (${describeError(error)}); running services pick it up at their next resync`,
      ),
    );
  };
  const announcedRecord = (record: NamespaceRecord): NamespaceRecord => {
    announced(record.name, record.version);
    return record;
  };
  return {
    async create(config, change) {
      const record = await store.create(config, change);
      return change.dryRun === true ? record : announcedRecord(record);
    },
    get: (name) => store.get(name),
    list: () => store.list(),
    async update(name, config, expectedVersion, change) {
      const record = await store.update(name, config, expectedVersion, change);
      return change.dryRun === true ? record : announcedRecord(record);
    },
    async delete(name, expectedVersion, change): Promise<NamespaceChange> {
      const deletion = await store.delete(name, expectedVersion, change);
      announced(deletion.namespace, deletion.version);
      return deletion;
    },
    history: (name) => store.history(name),
    async rollback(name, toVersion, expectedVersion, change) {
      return announcedRecord(await store.rollback(name, toVersion, expectedVersion, change));
    },
  };
}
