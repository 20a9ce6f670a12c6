/**
 * Unary gRPC calls with bytes in and out, timed where the bytes arrive: the wait and rpc benchmarks decode
 * after taking the time, so the client's decoding is not counted as the server's delay.
 */
import * as grpc from "@grpc/grpc-js";
import { toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { percentile } from "./measure.js";

export interface RawReply {
  bytes: Buffer;
  /** Date.now() when the reply arrived: comparable with the server's timestamps on the same machine. */
  receivedAt: number;
}

/** `/package.Service/Method`, as gRPC names the call on the wire. */
export function methodPath(method: DescMethodUnary): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** A request encoded once, to be sent many times. */
export function encodeRequest<I extends DescMessage>(method: DescMethodUnary<I>, request: MessageInitShape<I>): Buffer {
  return Buffer.from(toBinary(method.input, create(method.input, request)));
}

/**
 * A channel of its own: grpc-js shares one connection between clients of the same target and options
 * unless told to use a local subchannel pool, and several benchmark clients are meant to be several
 * connections, as several client processes would be.
 */
export function ownChannel(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
}

export function rawCall(client: grpc.Client, path: string, body: Buffer, deadline?: number, metadata?: grpc.Metadata): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      metadata ?? new grpc.Metadata(),
      deadline === undefined ? {} : { deadline },
      (err, reply) => (err || !reply ? reject(err ?? new Error(`${path}: no reply`)) : resolve({ bytes: reply, receivedAt: Date.now() })),
    );
  });
}

export interface InFlightLoad {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** `concurrency` calls in flight on one channel for `seconds`: each lane sends its next call on the reply. */
export async function keepInFlight(
  client: grpc.Client,
  path: string,
  body: Buffer,
  options: { concurrency: number; seconds: number; metadata?: grpc.Metadata },
): Promise<InFlightLoad> {
  const latencies: number[] = [];
  let errors = 0;
  const began = performance.now();
  const end = began + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end) {
        const sent = performance.now();
        try {
          await rawCall(client, path, body, undefined, options.metadata);
          latencies.push(performance.now() - sent);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - began) / 1000;
  return { requestsPerSecond: latencies.length / elapsed, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), errors };
}
