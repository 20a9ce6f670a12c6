/**
 * Unary gRPC calls with bytes in and out, timed where the bytes arrive: the wait and rpc benchmarks decode
 * after taking the time, so the client's decoding is not counted as the server's delay.
 */
import * as grpc from "@grpc/grpc-js";
import { toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";

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
