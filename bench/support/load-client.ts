/**
 * The clients a load generator can send its unary gRPC calls with, bytes in and out: `lean`, the minimal
 * HTTP/2 client (grpc-h2.ts), which leaves the machine's CPU to the server under test, or `grpc-js`, the
 * real `@grpc/grpc-js` client, as users' programs and google-gax have it.
 */
import type * as grpc from "@grpc/grpc-js";
import { H2GrpcClient } from "./grpc-h2.js";
import { ownChannel, rawCall } from "./grpc-raw.js";

export type LoadClientKind = "lean" | "grpc-js";
export const LOAD_CLIENTS: readonly LoadClientKind[] = ["lean", "grpc-js"];

export interface LoadClient {
  /** Sends one request message (already encoded) to `path` (`/pkg.Service/Method`); resolves with the reply's bytes. */
  call(path: string, body: Buffer): Promise<Buffer>;
  close(): void;
}

/**
 * A client of the server at `address` on one connection of its own: the lean client's one HTTP/2 session,
 * or one grpc-js channel (a local subchannel pool, so two clients are two connections). One connection per
 * server for both, so that the two differ only in the client's own work.
 */
export function loadClient(kind: LoadClientKind, address: string): LoadClient {
  return kind === "lean" ? new H2GrpcClient(address) : new GrpcJsLoadClient(ownChannel(address));
}

class GrpcJsLoadClient implements LoadClient {
  constructor(private readonly channel: grpc.Client) {}

  async call(path: string, body: Buffer): Promise<Buffer> {
    return (await rawCall(this.channel, path, body)).bytes;
  }

  close(): void {
    this.channel.close();
  }
}
