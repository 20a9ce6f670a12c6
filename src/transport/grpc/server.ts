import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { fromBinary, toBinary, type DescService, type Message } from "@bufbuild/protobuf";
import { DEFAULTS } from "../../core/defaults.js";
import { malformedRequest, type RpcError } from "../../core/errors.js";
import { consoleLogger, type Logger } from "../../core/logger.js";
import { REQUEST_ID_HEADER, requestIdOf } from "../../service/request-id.js";
import type { CallContext, Endpoint } from "../../service/endpoint.js";
import type { Credentials } from "../../auth/credentials.js";
import { CallerGone } from "../caller-gone.js";
import { certificateOf, pemBuffer, type TlsOptions } from "../tls.js";
import { toGrpcError } from "./errors.js";
import { addReflection } from "./reflection.js";

export interface GrpcServerOptions {
  endpoints: readonly Endpoint[];
  errorDomain: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request accepted. @default DEFAULTS.maxReceiveMessageBytes (4 MiB, gRPC's default) */
  maxReceiveMessageBytes?: number;
  /** Where failures that are bugs (not the client's) are reported. @default console.error */
  log?: Logger;
  /**
   * Serve over TLS; with `clientCa`, every connection must present a client certificate signed by it,
   * and calls carry that certificate in `ctx.credentials.certificate`. @default plaintext
   */
  tls?: TlsOptions;
}

export interface GrpcServer {
  server: grpc.Server;
  port: number;
  /** host:port to dial. */
  address: string;
  health: HealthImplementation;
  /** Sets the health status of the server ("") and of every service it serves. */
  setServing(serving: boolean): void;
  close(): Promise<void>;
}

/**
 * Serves the endpoints over gRPC (one grpc-js service per proto service), with grpc.health.v1.Health and
 * server reflection (v1 and v1alpha) built from the same descriptors, so grpcurl works with no proto files.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const log: Logger = options.log ?? consoleLogger;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? DEFAULTS.maxReceiveMessageBytes.value,
    // Channelz keeps per-call bookkeeping (about 1 KB per pending call: bench wait) that nothing here reads.
    "grpc.enable_channelz": 0,
  });
  // Only a server that asks for client certificates has verified ones to look at.
  const mutualTls = options.tls?.clientCa !== undefined;
  const byService = new Map<DescService, Endpoint[]>();
  for (const endpoint of options.endpoints) {
    if (!endpoint.grpc) continue;
    const list = byService.get(endpoint.method.parent) ?? [];
    list.push(endpoint);
    byService.set(endpoint.method.parent, list);
  }
  for (const [service, endpoints] of byService) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Message>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const endpoint of endpoints) {
      const { method } = endpoint;
      definition[method.name] = {
        path: `/${service.typeName}/${method.name}`,
        requestStream: false,
        responseStream: false,
        // Requests are decoded in the handler, so a malformed one is INVALID_ARGUMENT rather than grpc-js's INTERNAL.
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: Message) => Buffer.from(toBinary(method.output, m)),
        responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
        originalName: method.localName,
      };
      implementation[method.name] = unaryHandler(endpoint, options.errorDomain, log, mutualTls);
    }
    server.addService(definition, implementation);
  }

  const health = new HealthImplementation({ "": "SERVING" });
  for (const service of byService.keys()) health.setStatus(service.typeName, "SERVING");
  health.addToServer(server);
  addReflection(server, [...byService.keys()]);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, serverCredentials(options.tls), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    server,
    port,
    address: `${host}:${port}`,
    health,
    setServing: (serving) => {
      const status = serving ? "SERVING" : "NOT_SERVING";
      health.setStatus("", status);
      for (const service of byService.keys()) health.setStatus(service.typeName, status);
    },
    close: () =>
      new Promise<void>((resolve) => {
        health.setStatus("", "NOT_SERVING");
        for (const service of byService.keys()) health.setStatus(service.typeName, "NOT_SERVING");
        server.tryShutdown(() => resolve());
        // In-flight calls (a WaitOperation, say) would hold shutdown open; give them a moment, then end them.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}

function serverCredentials(tls: TlsOptions | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const clientCa = tls.clientCa === undefined ? null : pemBuffer(tls.clientCa);
  // With a client CA, grpc-js asks for a certificate and node:tls (rejectUnauthorized by default) ends
  // the handshake of a client without one it verifies: such a client never reaches a handler.
  return grpc.ServerCredentials.createSsl(
    clientCa,
    [{ cert_chain: pemBuffer(tls.cert), private_key: pemBuffer(tls.key) }],
    clientCa !== null,
  );
}

function unaryHandler(
  endpoint: Endpoint,
  domain: string,
  log: Logger,
  mutualTls: boolean,
): grpc.handleUnaryCall<Buffer, Message> {
  const { method } = endpoint;
  const rpc = `${method.parent.typeName}.${method.name}`;
  return (call, callback) => {
    const requestId = requestIdOf(firstString(call.metadata.get(REQUEST_ID_HEADER)));
    const ctx = new GrpcCallContext(call, mutualTls, requestId);
    call.on("cancelled", () => ctx.cancelled());
    // The request id goes back in the initial metadata of every answer. grpc-js sends headers before any
    // message anyway, so a success costs no extra frame; a failure, otherwise a trailers-only response, gets
    // a headers frame of its own, and the id in its trailers too: all a unary caller's error carries.
    const fail = (err: unknown): void => {
      const error = toGrpcError(err, domain, callLogger(log, ctx, rpc));
      error.metadata?.set(REQUEST_ID_HEADER, requestId);
      call.sendMetadata(requestIdMetadata(requestId));
      callback(error);
    };
    let request: Message;
    try {
      request = fromBinary(method.input, call.request);
    } catch (err) {
      fail(malformed(method.input.typeName, err));
      return;
    }
    endpoint.invoke(request, ctx).then(
      (response) => {
        ctx.answered = true;
        call.sendMetadata(requestIdMetadata(requestId));
        callback(null, response);
      },
      (err: unknown) => {
        ctx.answered = true;
        fail(err);
      },
    );
  };
}

/**
 * The CallContext of a unary call: a class, its accessors on the prototype, so that a pending call (10,000
 * WaitOperations) holds one small object rather than an object literal with getters and closures of its
 * own. The signal is made only for the calls that look at it, and fired only if the call is cancelled
 * before it is answered: grpc-js reports "cancelled" for answered calls too, and an abort builds a
 * DOMException — together a tenth of a GetOperation's CPU when done for every call. `onCancel` listeners
 * cost less still (WaitOperation's).
 */
class GrpcCallContext implements CallContext {
  readonly transport = "grpc" as const;
  readonly deadline: number | undefined;
  principal: string | undefined = undefined;
  answered = false;
  private controller: AbortController | undefined;
  private readonly callerGone = new CallerGone();
  // Read only when the server checks credentials: most calls never build them.
  private found: Credentials | undefined;

  constructor(
    private readonly call: grpc.ServerUnaryCall<Buffer, Message>,
    private readonly mutualTls: boolean,
    readonly requestId: string,
  ) {
    const deadline = call.getDeadline();
    this.deadline = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.callerGone.gone) this.controller.abort();
    return this.controller.signal;
  }

  get credentials(): Credentials {
    return (this.found ??= credentialsOf(this.call, this.mutualTls));
  }

  header(name: string): string | undefined {
    return firstString(this.call.metadata.get(name));
  }

  onCancel(listener: () => void): () => void {
    return this.callerGone.onCancel(listener);
  }

  cancelled(): void {
    if (!this.answered && this.callerGone.fire()) this.controller?.abort();
  }
}

/**
 * The call credentials in the metadata (the first value of each key; grpc-js lower-cases keys), and the
 * client certificate of a mutual-TLS connection (grpc-js reports one only when the handshake verified it).
 */
function credentialsOf(call: grpc.ServerUnaryCall<Buffer, Message>, mutualTls: boolean): Credentials {
  const { metadata } = call;
  return {
    apiKey: firstString(metadata.get("x-goog-api-key")),
    authorization: firstString(metadata.get("authorization")),
    certificate: mutualTls ? certificateOf(call.getAuthContext().sslPeerCertificate) : undefined,
  };
}

/** The log of one call: every line with its request id and method (made only when a call fails). */
function callLogger(log: Logger, ctx: CallContext, method: string): Logger {
  return (message, err, fields) => log(message, err, { requestId: ctx.requestId, method, ...fields });
}

function requestIdMetadata(requestId: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(REQUEST_ID_HEADER, requestId);
  return metadata;
}

function firstString(values: grpc.MetadataValue[]): string | undefined {
  const value = values[0];
  return typeof value === "string" ? value : undefined;
}

function malformed(typeName: string, err: unknown): RpcError {
  const detail = err instanceof Error ? err.message : String(err);
  return malformedRequest(`The request is not a valid ${typeName}: ${detail}`, undefined, detail);
}
