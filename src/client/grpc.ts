import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type Message, type Registry } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { CallFailedError } from "./errors.js";
import { methodPath, type Attempt, type OperationsTransport } from "./transport.js";

export interface GrpcTransportOptions {
  /** `host:port`, or `grpc://`, `http://` (plaintext) / `https://` (TLS) URLs. */
  address: string;
  /** Channel credentials. @default TLS for `https://`, plaintext otherwise */
  credentials?: grpc.ChannelCredentials;
  /** Metadata sent with every call (an API key, say). */
  metadata?: Record<string, string>;
  /** grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
  registry: Registry;
}

/**
 * Unary calls over @grpc/grpc-js, messages encoded with the bufbuild codecs. A failed call's
 * `grpc-status-details-bin` trailer (the full google.rpc.Status) becomes the CallFailedError's status.
 */
export class GrpcTransport implements OperationsTransport {
  readonly kind = "grpc";
  /** The channel; also used for server reflection. */
  readonly client: grpc.Client;
  private readonly registry: Registry;
  private readonly metadata: Record<string, string>;

  constructor(options: GrpcTransportOptions) {
    const { target, tls } = grpcTarget(options.address);
    const credentials = options.credentials ?? (tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure());
    this.client = new grpc.Client(target, credentials, options.channelOptions);
    this.registry = options.registry;
    this.metadata = options.metadata ?? {};
  }

  call(method: DescMethod, request: Message, output: DescMessage, attempt: Attempt): Promise<Message> {
    const { signal } = attempt;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const path = `/${method.parent.typeName}/${method.name}`;
    const body = Buffer.from(toBinary(method.input, request));
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this.metadata)) metadata.set(key, value);
    return new Promise<Message>((resolve, reject) => {
      const onAbort = (): void => call.cancel();
      const call = this.client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        metadata,
        { deadline: attempt.deadline },
        (err, response) => {
          signal?.removeEventListener("abort", onAbort);
          if (signal?.aborted) return reject(signal.reason);
          if (err) return reject(toCallFailed(methodPath(method), err, this.registry));
          try {
            resolve(fromBinary(output, response as Buffer));
          } catch (e) {
            const message = `the response is not a valid ${output.typeName}: ${e instanceof Error ? e.message : String(e)}`;
            reject(new CallFailedError(methodPath(method), create(StatusSchema, { code: Code.INTERNAL, message }), this.registry, { cause: e }));
          }
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** The google.rpc.Status of a gRPC error: the trailer's when present (and agreeing), else code + message. */
export function statusOfGrpcError(err: grpc.ServiceError): Status {
  const bin = err.metadata?.get("grpc-status-details-bin")[0];
  if (bin instanceof Buffer) {
    try {
      const status = fromBinary(StatusSchema, bin);
      if (status.code === err.code) return status;
    } catch {
      // A trailer that does not decode is ignored; the gRPC status still says what happened.
    }
  }
  const code = err.code >= 1 && err.code <= 16 ? err.code : Code.UNKNOWN;
  return create(StatusSchema, { code, message: err.details ?? err.message });
}

function toCallFailed(method: string, err: grpc.ServiceError, registry: Registry): CallFailedError {
  return new CallFailedError(method, statusOfGrpcError(err), registry, { cause: err });
}

/** host:port to dial, and whether to use TLS. */
export function grpcTarget(address: string): { target: string; tls: boolean } {
  const match = /^(grpc|grpcs|http|https):\/\/([^/]+)\/?$/.exec(address);
  if (match) return { target: match[2]!, tls: match[1] === "https" || match[1] === "grpcs" };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address) && !address.startsWith("dns:") && !address.startsWith("unix:")) {
    throw new Error(`"${address}" is not a gRPC address (host:port, or http://host:port / https://host:port)`);
  }
  return { target: address, tls: false };
}
