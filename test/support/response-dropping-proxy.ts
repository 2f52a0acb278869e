import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

const frameHeaderBytes = 9;
const headersFrame = 0x1;

/**
 * A TCP proxy in front of a gRPC server that cuts the connection as the
 * server starts answering a call (its first HEADERS frame on a stream), the
 * next `drops` times: the call reached the server and was handled, but the
 * client never hears the answer. What a network failure at the worst moment
 * looks like to a client.
 */
export class ResponseDroppingProxy {
  /** Answers still to cut. */
  drops = 0;
  /** Answers cut so far. */
  dropped = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(upstream: { host: string; port: number }) {
    this.server = createServer((client) => {
      const server = connect(upstream.port, upstream.host);
      for (const socket of [client, server]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => undefined);
      }
      client.pipe(server);
      let pending = Buffer.alloc(0);
      server.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        // Walk whole frames: length (3 bytes), type, flags, stream id (4 bytes, top bit reserved).
        while (pending.length >= frameHeaderBytes) {
          const length = pending.readUIntBE(0, 3);
          const type = pending[3];
          const stream = pending.readUInt32BE(5) & 0x7fff_ffff;
          if (type === headersFrame && stream !== 0 && this.drops > 0) {
            this.drops -= 1;
            this.dropped += 1;
            client.destroy();
            server.destroy();
            return;
          }
          if (pending.length < frameHeaderBytes + length) break;
          client.write(pending.subarray(0, frameHeaderBytes + length));
          pending = pending.subarray(frameHeaderBytes + length);
        }
      });
      server.on("close", () => client.destroy());
      client.on("close", () => server.destroy());
    });
  }

  static async start(upstream: string): Promise<ResponseDroppingProxy> {
    const [host, port] = upstream.split(":");
    const proxy = new ResponseDroppingProxy({ host: host as string, port: Number(port) });
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
