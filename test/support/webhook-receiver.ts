import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedCall {
  method: string;
  entryId: string;
  key: string;
  version: bigint;
  /** The sender's count of this attempt (WAL-Attempt). */
  attempt: number;
  traceparent: string | undefined;
  body: string;
  /** The body as sent, for binary payloads. */
  bytes: Buffer;
  atMs: number;
}

/**
 * A real HTTP endpoint that records what a webhook target sends. `failNext`
 * makes it answer errors for a while, as a target that is down.
 */
export class WebhookReceiver {
  readonly calls: ReceivedCall[] = [];
  /** Calls answered with an error status, in arrival order. */
  readonly refused: ReceivedCall[] = [];
  /** Each answer waits this long, as a slow endpoint. */
  responseDelayMs = 0;
  /** An error status to answer a call with (a poison body, a target down); undefined accepts it. */
  refuse: (call: ReceivedCall) => number | undefined = () => undefined;
  private failures: { status: number; remaining: number; retryAfter?: string } | undefined;
  private readonly server: Server;

  private constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then(async (bytes) => {
        if (this.responseDelayMs > 0) await new Promise((r) => setTimeout(r, this.responseDelayMs));
        const call: ReceivedCall = {
          method: request.method ?? "",
          entryId: String(request.headers["idempotency-key"] ?? ""),
          key: decodeURIComponent(String(request.headers["wal-key"] ?? "")),
          version: BigInt(String(request.headers["wal-version"] ?? "-1")),
          attempt: Number(request.headers["wal-attempt"] ?? 0),
          traceparent: request.headers.traceparent as string | undefined,
          body: bytes.toString("utf8"),
          bytes,
          atMs: Date.now(),
        };
        const status = this.refuse(call);
        if (status !== undefined) {
          this.refused.push(call);
          response.writeHead(status).end();
          return;
        }
        if (this.failures !== undefined && this.failures.remaining > 0) {
          this.failures.remaining -= 1;
          const headers =
            this.failures.retryAfter === undefined
              ? {}
              : { "retry-after": this.failures.retryAfter };
          response.writeHead(this.failures.status, headers).end();
          return;
        }
        this.calls.push(call);
        response.writeHead(204).end();
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  failNext(count: number, status: number, retryAfter?: string): void {
    this.failures = {
      status,
      remaining: count,
      ...(retryAfter === undefined ? {} : { retryAfter }),
    };
  }

  /** The first call of each entry id, in arrival order: what a receiver that drops repeats applies. */
  firstCalls(): ReceivedCall[] {
    const seen = new Set<string>();
    return this.calls.filter((c) => !seen.has(c.entryId) && seen.add(c.entryId));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
