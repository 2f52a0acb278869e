import { z } from "zod";
import { describeError } from "../../core/index.ts";
import type { Logger } from "../../observability/index.ts";
import { describeNatsServer, NatsLink, type NatsStatus } from "./connection.ts";

/** Subject of the notifications the control plane sends after each committed namespace change. */
export const namespaceChangesSubject = "wal.control.namespaces";

/**
 * "Namespace `name` changed; its version is now `version`." Only a hint to
 * read the store again: the config itself is never sent, so PostgreSQL stays
 * the one source of truth and a lost or repeated notification is harmless.
 */
export interface NamespaceChanged {
  name: string;
  version: number;
}

// Fields a later version may add are ignored, so that older subscribers keep following.
const namespaceChanged = z.object({
  name: z.string().min(1),
  version: z.number().int().min(1),
});

export function encodeNamespaceChanged(change: NamespaceChanged): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(change));
}

/** The notification in `data`, or undefined when it is not one (its reason in `problem`). */
export function decodeNamespaceChanged(
  data: Uint8Array,
): { change: NamespaceChanged; problem?: undefined } | { change?: undefined; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})` };
  }
  const result = namespaceChanged.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { problem: `${issue?.path.join(".") || "message"}: ${issue?.message}` };
  }
  return { change: result.data };
}

export interface NatsClientOptions {
  /** The NATS server, e.g. nats://127.0.0.1:4222. */
  url: string;
  /** Client name shown by the server's monitoring. */
  name: string;
  /** Connection changes; see `NatsState` for what each one means. */
  onStatus?: (status: NatsStatus) => void;
}

// The server answers a flush within a round trip; past this it is as good as down.
const publishTimeoutMs = 2_000;

export interface NamespaceChangePublisher {
  /**
   * Sends a notification and resolves once the server has it. Rejects at once
   * while NATS is unreachable: nothing is queued, since subscribers resync
   * from the store when NATS returns. Calls keep their order on the wire.
   */
  publishNamespaceChanged(change: NamespaceChanged): Promise<void>;
  /**
   * Resolves once NATS is connected, or rejects after `timeoutMs` (default
   * 5000) saying what to check. For callers that must not begin before
   * notifications can go out, such as a benchmark; the control plane never waits.
   */
  ready(timeoutMs?: number): Promise<void>;
  /** Waits for the notifications in flight (each bounded), then disconnects. */
  close(): Promise<void>;
}

/** Connects in the background: publishing before NATS is reachable fails, creating never does. */
export function createNamespaceChangePublisher(
  options: NatsClientOptions,
): NamespaceChangePublisher {
  const waiting = new Set<() => void>();
  const link = new NatsLink({
    ...options,
    onStatus: (status) => {
      if (status.state === "connected" || status.state === "reconnected") {
        for (const wake of waiting) wake();
      }
      options.onStatus?.(status);
    },
  });
  const server = describeNatsServer(options.url);
  const inFlight = new Set<Promise<void>>();

  async function confirmed(flushed: Promise<void>, change: NamespaceChanged): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `NATS at ${server} did not confirm the notification of namespace '${change.name}' version ${change.version} within ${publishTimeoutMs} ms; check the server ('wal infra status')`,
            ),
          ),
        publishTimeoutMs,
      );
    });
    try {
      await Promise.race([flushed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    publishNamespaceChanged(change) {
      const notAnnounced = (why: string) =>
        Promise.reject(
          new Error(
            `${why}, so the change of namespace '${change.name}' to version ${change.version} was not announced; start NATS ('wal infra up nats') or fix --nats-url (WAL_NATS_URL)`,
          ),
        );
      const connection = link.current();
      if (connection === undefined) return notAnnounced(`NATS at ${server} is unreachable`);
      let published: Promise<void>;
      try {
        // Published before the first await, so notifications leave in the order of the calls.
        connection.publish(namespaceChangesSubject, encodeNamespaceChanged(change));
        published = confirmed(connection.flush(), change);
      } catch (error) {
        // The connection closed since `current()`: the client throws rather than queue.
        return notAnnounced(`NATS at ${server} refused the notification (${describeError(error)})`);
      }
      inFlight.add(published);
      const settled = () => inFlight.delete(published);
      published.then(settled, settled);
      return published;
    },
    async ready(timeoutMs = 5_000) {
      if (link.current() !== undefined) return;
      let wake = () => {};
      let timer: NodeJS.Timeout | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          waiting.add(wake);
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `no connection to NATS at ${server} within ${timeoutMs} ms; start NATS ('wal infra up nats') or fix --nats-url (WAL_NATS_URL)`,
                ),
              ),
            timeoutMs,
          );
        });
      } finally {
        waiting.delete(wake);
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.allSettled(inFlight);
      await link.close();
    },
  };
}

export interface NamespaceChangeSubscriber {
  close(): Promise<void>;
}

export interface SubscribeOptions extends NatsClientOptions {
  /** Called with each well-formed notification, in the order the server delivers them. */
  onChange: (change: NamespaceChanged) => void;
  logger: Logger;
}

/**
 * Listens to namespace change notifications. Starts at once, even while NATS
 * is unreachable; `onStatus` says when notifications may have been missed
 * (everything between `disconnected` or `unreachable` and the next
 * `connected` or `reconnected`).
 */
export function subscribeNamespaceChanges(options: SubscribeOptions): NamespaceChangeSubscriber {
  const { onChange, logger } = options;
  const link = new NatsLink(options, async (connection) => {
    connection.subscribe(namespaceChangesSubject, {
      callback: (error, message) => {
        if (error !== null) {
          logger.warn({ err: error }, "the namespace changes subscription failed");
          return;
        }
        const { change, problem } = decodeNamespaceChanged(message.data);
        if (change === undefined) {
          // Only a hint was lost: the next resync reads the store anyway.
          logger.warn(
            { subject: namespaceChangesSubject, problem },
            `ignoring a malformed namespace change notification (${problem}); expected {"name": string, "version": integer >= 1}`,
          );
          return;
        }
        onChange(change);
      },
    });
    // Resolves once the server has registered the subscription: from then on nothing is missed.
    await connection.flush();
  });
  return { close: () => link.close() };
}
