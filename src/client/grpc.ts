import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type Message, type Registry } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { checkClientTls, checkCredentials, credentialHeaders, type ClientCredentials, type ClientTls } from "./credentials.js";
import { CallFailedError } from "./errors.js";
import { methodPath, type Attempt, type OperationsTransport } from "./transport.js";

export interface GrpcTransportOptions extends ClientCredentials {
  /** `host:port`, or `grpc://`, `http://` (plaintext) / `https://`, `grpcs://` (TLS) URLs. */
  address: string;
  /** Channel credentials, instead of those `tls` and the address make. @default TLS for `https://` or with `tls`, plaintext otherwise */
  credentials?: grpc.ChannelCredentials;
  /** TLS with a CA of its own, or a client certificate (mutual TLS); `host:port` is then dialled with TLS. */
  tls?: ClientTls;
  /** Metadata sent with every call. */
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
  private readonly credentials: ClientCredentials;

  constructor(options: GrpcTransportOptions) {
    checkCredentials(options);
    const { target, tls } = grpcTarget(options.address);
    this.client = new grpc.Client(target, channelCredentials(options, tls), options.channelOptions);
    this.registry = options.registry;
    this.metadata = options.metadata ?? {};
    this.credentials = { apiKey: options.apiKey, token: options.token };
  }

  /**
   * The metadata of one call: the fixed metadata and the credentials (a token function is asked now).
   * Plain metadata rather than grpc-js call credentials, which it refuses on a plaintext channel: whether
   * credentials without TLS are acceptable (loopback, a TLS-terminating proxy) is the server's to decide.
   */
  async callMetadata(): Promise<grpc.Metadata> {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(this.metadata)) metadata.set(key, value);
    for (const [key, value] of Object.entries(await credentialHeaders(this.credentials))) metadata.set(key, value);
    return metadata;
  }

  async call(method: DescMethod, request: Message, output: DescMessage, attempt: Attempt): Promise<Message> {
    const { signal } = attempt;
    signal?.throwIfAborted();
    const path = `/${method.parent.typeName}/${method.name}`;
    const body = Buffer.from(toBinary(method.input, request));
    const metadata = await this.callMetadata();
    signal?.throwIfAborted();
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

/** The channel's credentials: as given, else TLS (with `tls`'s certificates) for a TLS address or when `tls` is given. */
function channelCredentials(options: GrpcTransportOptions, tlsAddress: boolean): grpc.ChannelCredentials {
  const { tls } = options;
  checkClientTls(tls);
  if (options.credentials !== undefined) {
    if (tls !== undefined) throw new TypeError("give either grpc.credentials or tls, not both");
    return options.credentials;
  }
  if (tls !== undefined && /^(grpc|http):\/\//.test(options.address)) {
    throw new TypeError(`tls is given but ${options.address} says plaintext: use https://, grpcs:// or host:port`);
  }
  if (tls === undefined && !tlsAddress) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(pem(tls?.ca), pem(tls?.key), pem(tls?.cert));
}

function pem(value: string | Buffer | undefined): Buffer | null {
  return value === undefined ? null : Buffer.from(value);
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
