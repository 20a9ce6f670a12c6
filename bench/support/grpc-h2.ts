/**
 * A minimal gRPC unary client straight over node:http2, for load generators that share the machine's two
 * cores with the server they measure. grpc-js's client is built for everything (name resolution, load
 * balancing, interceptors, retries, keepalive) and costs about 0.4 ms of CPU per call here (bench
 * throughput, end to end: 0.81 ms per job of two calls in the load generator, more than the server's
 * 0.73), CPU taken from the server under test; this one only frames a message, sends it on a stream of
 * one HTTP/2 connection and reads the reply and the grpc-status trailer, as load tools such as h2load or
 * ghz do. Not for tests: the compatibility tests use the real clients.
 */
import http2 from "node:http2";

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = http2.constants;

export class GrpcStatusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`gRPC status ${code}: ${message}`);
  }
}

export class H2GrpcClient {
  private readonly session: http2.ClientHttp2Session;

  constructor(address: string) {
    this.session = http2.connect(`http://${address}`);
    this.session.on("error", () => undefined); // surfaced by the calls that fail
  }

  /** Sends one request message (already encoded) to `path` (`/pkg.Service/Method`); resolves with the reply's bytes. */
  call(path: string, body: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        [HTTP2_HEADER_METHOD]: "POST",
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
        [HTTP2_HEADER_TE]: "trailers",
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = "";
      const readStatus = (headers: http2.IncomingHttpHeaders) => {
        const s = headers["grpc-status"];
        if (s !== undefined) {
          status = String(s);
          message = decodeURIComponent(String(headers["grpc-message"] ?? ""));
        }
      };
      stream.on("response", readStatus); // a trailers-only reply (an error) carries its status here
      stream.on("trailers", readStatus);
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", reject);
      stream.on("end", () => {
        if (status !== "0") {
          reject(new GrpcStatusError(Number(status ?? 2), status === undefined ? "no grpc-status" : message));
          return;
        }
        const frame = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        // One length-prefixed message: flag byte, 4-byte length, the message.
        resolve(frame.subarray(5, 5 + frame.readUInt32BE(1)));
      });
      const framed = Buffer.allocUnsafe(5 + body.length);
      framed[0] = 0;
      framed.writeUInt32BE(body.length, 1);
      framed.set(body, 5);
      stream.end(framed);
    });
  }

  close(): void {
    this.session.close();
  }
}
