import { connect, Events, type NatsConnection } from "nats";
import { describeError } from "../../core/index.ts";

/**
 * What a link reports about its connection:
 * - `connected`: a new connection is up (its subscriptions are registered on the server);
 * - `unreachable`: dialing failed; the link keeps dialing in the background (reported once per round);
 * - `disconnected`: an established connection was lost; it is being restored;
 * - `reconnected`: the lost connection is back, subscriptions included.
 * Whatever was published while down may be lost: owners resync on `connected` and `reconnected`.
 */
export type NatsState = "connected" | "unreachable" | "disconnected" | "reconnected";

export interface NatsStatus {
  state: NatsState;
  /** Why, for `unreachable` and `disconnected`. */
  reason?: string;
}

export interface NatsLinkOptions {
  /** The NATS server, e.g. nats://127.0.0.1:4222. */
  url: string;
  /** Client name shown by the server's monitoring, e.g. wal-control-plane. */
  name: string;
  onStatus?: (status: NatsStatus) => void;
}

/** `host:port` of a NATS URL: enough to find the server, without credentials it may carry. */
export function describeNatsServer(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || "4222"}`;
  } catch {
    return "the configured NATS server (its URL does not parse)";
  }
}

// A short wait so that a restarted server is found again within a second.
const reconnectWaitMs = 250;
const dialRetryMs = 500;
const handshakeTimeoutMs = 2_000;
// A server that stops answering without closing the socket is noticed after two unanswered pings.
const pingIntervalMs = 5_000;
const maxPingsOut = 2;

/**
 * One NATS connection that never gives up: the first dial is retried in the
 * background until it succeeds (so no owner has to wait for NATS to start),
 * and a lost connection is restored by the client, forever. `setUp` runs on
 * each new connection, e.g. to subscribe; the client restores subscriptions
 * itself after a reconnect.
 */
export class NatsLink {
  private connection: NatsConnection | undefined;
  private up = false;
  private closing = false;
  private wake: (() => void) | undefined;
  private readonly running: Promise<void>;

  constructor(
    private readonly options: NatsLinkOptions,
    private readonly setUp: (connection: NatsConnection) => Promise<void> = async () => {},
  ) {
    this.running = this.run();
  }

  /** The connection, while it is up; undefined while dialing or reconnecting. */
  current(): NatsConnection | undefined {
    return this.up ? this.connection : undefined;
  }

  /** Stops dialing, closes the connection and waits until both are done. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    await this.connection?.close();
    await this.running;
  }

  private async run(): Promise<void> {
    let reportedUnreachable = false;
    while (!this.closing) {
      let connection: NatsConnection;
      try {
        connection = await connect({
          servers: this.options.url,
          name: this.options.name,
          maxReconnectAttempts: -1,
          reconnectTimeWait: reconnectWaitMs,
          timeout: handshakeTimeoutMs,
          pingInterval: pingIntervalMs,
          maxPingOut: maxPingsOut,
        });
      } catch (error) {
        if (!reportedUnreachable) {
          reportedUnreachable = true;
          this.report({ state: "unreachable", reason: describeError(error) });
        }
        await this.pause(dialRetryMs);
        continue;
      }
      reportedUnreachable = false;
      if (this.closing) {
        await connection.close();
        return;
      }
      this.connection = connection;
      this.up = true;
      void this.watch(connection);
      const closed = connection.closed();
      // A flush pending when the connection closes never settles: wait for whichever comes first.
      const setUp = this.setUp(connection).then(
        () => "set up" as const,
        // Failed while setting up: either the connection closes (and is dialed again below)
        // or the client reconnects, restores the subscriptions and reports `reconnected`.
        () => "failed" as const,
      );
      if ((await Promise.race([setUp, closed])) === "set up" && this.up) {
        this.report({ state: "connected" });
      }
      const error = await closed;
      this.up = false;
      this.connection = undefined;
      if (!this.closing) {
        this.report({
          state: "disconnected",
          reason: error === undefined ? "the connection closed" : describeError(error),
        });
      }
    }
  }

  private async watch(connection: NatsConnection): Promise<void> {
    // The status stream ends when the connection closes.
    for await (const status of connection.status()) {
      if (status.type === Events.Disconnect) {
        this.up = false;
        this.report({ state: "disconnected", reason: `lost the server ${String(status.data)}` });
      } else if (status.type === Events.Reconnect) {
        this.up = true;
        this.report({ state: "reconnected" });
      }
    }
  }

  private report(status: NatsStatus): void {
    this.options.onStatus?.(status);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
