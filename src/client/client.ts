import {
  create,
  getOption,
  hasOption,
  type DescFile,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  type Message,
  type MessageInitShape,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { durationFromMs, EmptySchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { DEFAULTS } from "../core/defaults.js";
import { resolveMessage } from "../core/registry.js";
import { OperationActivity } from "../gen/longrun/admin/v1/activity_pb.js";
import {
  ListOperationsRequestSchema,
  ListOperationsResponseSchema,
  Operations,
  OperationSchema,
  operation_info,
  type ListOperationsResponse,
  type Operation,
} from "../gen/google/longrunning/operations_pb.js";
import type { ClientTls, TokenSource } from "./credentials.js";
import { CallFailedError, UnknownTypeError } from "./errors.js";
import { GrpcTransport } from "./grpc.js";
import { OperationHandle, type HandleHost, type OperationTypes } from "./handle.js";
import type { RestBinding } from "../http/rule.js";
import type { OperationNaming } from "./rest-request.js";
import { ClientRegistry } from "./registry.js";
import { RestTransport } from "./rest.js";
import { DEFAULT_RETRY_POLICY, retryBackoffMs, retryPolicy, shouldRetry, type RetryPolicy } from "./retry.js";
import { sleep, type CallOptions, type OperationsTransport } from "./transport.js";
import { pollingPolicy, watchChanges, watchOperation, type PollingPolicy, type WaitOptions, type WatchOptions } from "./wait.js";

export interface LongrunClientOptions {
  /**
   * Where the server is. gRPC: `host:port` (plaintext; TLS with `tls`), `http://host:port`, `https://host:port`
   * or `grpcs://host:port` (TLS). REST: `host:port` (→ `http://host:port`; `https://` with `tls`) or a base URL.
   */
  server: string;
  /** @default "grpc" */
  transport?: "grpc" | "rest";
  /**
   * An API key, sent as `x-goog-api-key` on every call. Sent whether or not the connection is encrypted:
   * use TLS (`https://`, `tls`) anywhere but on loopback.
   */
  apiKey?: string;
  /**
   * A bearer token (a JWT), sent as `authorization: Bearer <token>` on every call; or a function giving one,
   * asked before every attempt (keep it cheap: cache the token until it nears expiry). Use TLS, as for `apiKey`.
   */
  token?: TokenSource;
  /**
   * TLS with a CA of its own (`ca`, PEM) instead of the system's, and a client certificate (`cert` and `key`,
   * PEM) for mutual TLS. Implies TLS: `host:port` is dialled with TLS (REST: `https://`); an `http://`
   * address is refused.
   */
  tls?: ClientTls;
  /**
   * Proto files whose messages may appear in operations (metadata, responses, error details), beyond the
   * built-in google.longrunning / google.rpc / google.cloud.common / well-known types. The file of a
   * method passed to `start` is added by itself.
   */
  files?: readonly DescFile[];
  /** More types, e.g. a registry built from server reflection. */
  registry?: Registry;
  /** The deadline of one attempt of a call, in ms. @default 10_000 (the Operations service config's) */
  timeoutMs?: number;
  /** How UNAVAILABLE is retried (see DEFAULT_RETRY_POLICY); `false`: never. */
  retry?: Partial<RetryPolicy> | false;
  /** The polling schedule when the server has no WaitOperation. @default google-gax's: 100 ms ×1.3 up to 60 s (+ 20 % jitter) */
  polling?: Partial<PollingPolicy>;
  /** The longest single WaitOperation. @default DEFAULTS.maxWaitMs (60 s) */
  waitChunkMs?: number;
  /** gRPC only: `credentials` replaces those the address and `tls` make (give one of the two). */
  grpc?: { credentials?: grpc.ChannelCredentials; metadata?: Record<string, string>; channelOptions?: grpc.ChannelOptions };
  /**
   * REST only: `naming` (version prefix, collection id, parent pattern: longrun's Operations bindings for
   * those names, `GET /v1/{name=operations/**}` … `POST /v1/{name=operations/**}:wait` by default);
   * `bindings` by full method name over those and each method's `google.api.http` (`null`: not bound);
   * `headers` for every call; `fetch` to use.
   */
  rest?: { naming?: OperationNaming; bindings?: Record<string, RestBinding | null>; headers?: Record<string, string>; fetch?: typeof fetch };
}

/** Options of `start`: the call's, plus the types of the operation (else taken from the method's operation_info). */
export interface StartOptions<R extends DescMessage = DescMessage, M extends DescMessage = DescMessage> extends CallOptions {
  /** The response type; by default the method's `operation_info.response_type`, resolved in the registry. */
  response?: R;
  /** The metadata type; by default the method's `operation_info.metadata_type`. */
  metadata?: M;
  /** The metadata field holding progress in percent (dotted path); default: found by name. */
  progressField?: string;
}

export interface ListOptions extends CallOptions {
  /** The collection, or a parent for parent-scoped names. @default DEFAULTS.collection ("operations") */
  name?: string;
  /** An AIP-160 filter, `done = false`. */
  filter?: string;
  /** Operations per page (the server caps it). @default the server's */
  pageSize?: number;
}

/**
 * A client of google.longrunning.Operations — longrun's or any other server's — over gRPC or REST.
 *
 * ```ts
 * const client = new LongrunClient({ server: "127.0.0.1:50051" });
 * const op = await client.start(Demo.method.sleep, { duration: { seconds: 5n } });
 * for await (const s of op.updates()) console.log(s.progressPercent);
 * console.log(await op.result());
 * for await (const o of client.list({ filter: "done = false" })) console.log(o.name);
 * client.close();
 * ```
 */
export class LongrunClient {
  /** The types the client decodes `Any`s with. */
  readonly registry: ClientRegistry;
  readonly transport: OperationsTransport;
  private readonly timeoutMs: number;
  private readonly callRetry: RetryPolicy | false;
  private readonly polling: PollingPolicy;
  private readonly waitChunkMs: number | undefined;
  private readonly host: HandleHost;

  constructor(options: LongrunClientOptions) {
    this.registry = new ClientRegistry(options.files ?? [], options.registry ? [options.registry] : []);
    const security = { apiKey: options.apiKey, token: options.token, tls: options.tls };
    this.transport =
      (options.transport ?? "grpc") === "grpc"
        ? new GrpcTransport({ address: options.server, registry: this.registry, ...security, ...options.grpc })
        : new RestTransport({ baseUrl: options.server, registry: this.registry, ...security, ...options.rest });
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.callRetry = options.retry === false ? false : retryPolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry });
    this.polling = pollingPolicy(options.polling);
    this.waitChunkMs = options.waitChunkMs;
    const waitSupport = { unimplemented: false };
    this.host = {
      registry: this.registry,
      waitSupport,
      getOperation: (name, o) => this.get(name, o),
      waitOperation: (name, timeoutMs, o) =>
        this.invoke(Operations.method.waitOperation, { name, timeout: durationFromMs(timeoutMs) }, OperationSchema, o),
      get: (name, o) => this.get(name, o),
      cancel: (name, o) => this.cancel(name, o),
      delete: (name, o) => this.delete(name, o),
      waitDefaults: (o) => this.waitDefaults(o),
    };
  }

  /** Whether the server answered WaitOperation with UNIMPLEMENTED (this client then polls GetOperation). */
  get pollsForWait(): boolean {
    return this.host.waitSupport.unimplemented;
  }

  /** GetOperation. */
  get(name: string, options: CallOptions = {}): Promise<Operation> {
    return this.invoke(Operations.method.getOperation, { name }, OperationSchema, options);
  }

  /** One page of ListOperations. */
  listPage(request: MessageInitShape<typeof ListOperationsRequestSchema>, options: CallOptions = {}): Promise<ListOperationsResponse> {
    return this.invoke(Operations.method.listOperations, request, ListOperationsResponseSchema, options);
  }

  /** Every operation ListOperations returns, page after page (newest first on longrun). */
  async *list(options: ListOptions = {}): AsyncGenerator<Operation, void, undefined> {
    const { name = DEFAULTS.collection.value, filter = "", pageSize = 0, ...call } = options;
    let pageToken = "";
    do {
      const page = await this.listPage({ name, filter, pageSize, pageToken }, call);
      yield* page.operations;
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
  }

  /**
   * Any other unary RPC the server serves (its admin methods, `longrun.admin.v1.Notifications`, say), with
   * this client's credentials, deadline and retry policy.
   */
  call<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, request: MessageInitShape<I>, options: CallOptions = {}): Promise<MessageShape<O>> {
    return this.invoke(method, request as MessageInitShape<DescMessage>, method.output, options);
  }

  /** CancelOperation: asks the server to cancel; the operation then ends with CANCELLED (unless it finishes first). */
  async cancel(name: string, options: CallOptions = {}): Promise<void> {
    await this.invoke(Operations.method.cancelOperation, { name }, EmptySchema, options);
  }

  /**
   * RetryOperation (longrun's admin API): a new operation running a failed one's request again, linked to
   * it; FAILED_PRECONDITION unless the operation failed. Not retried by default: a second attempt after a
   * lost answer would start a second operation.
   */
  retry(name: string, options: CallOptions = {}): Promise<Operation> {
    return this.invoke(OperationActivity.method.retryOperation, { name }, OperationSchema, { retry: false, ...options });
  }

  /** DeleteOperation: the server forgets the operation (it is not cancelled). */
  async delete(name: string, options: CallOptions = {}): Promise<void> {
    await this.invoke(Operations.method.deleteOperation, { name }, EmptySchema, options);
  }

  /**
   * Waits until the operation is done and returns it (with its `error` or `response`): WaitOperation, or
   * GetOperation polled with backoff when the server answers Wait with UNIMPLEMENTED. WaitTimeoutError
   * after `timeoutMs`.
   */
  async wait(name: string, options: WaitOptions = {}): Promise<Operation> {
    let last: Operation | undefined;
    for await (const op of watchOperation(this.host, name, this.waitDefaults(options))) last = op;
    return last!;
  }

  /**
   * The operation's states until it is done, undecoded: the current one first (fetched, or as given), then each change (of
   * metadata, progress, done), the done one last. What `OperationHandle.updates()` decodes.
   */
  async *watch(operation: string | Operation, options: WatchOptions = {}): AsyncGenerator<Operation, void, undefined> {
    const initial = typeof operation === "string" ? await this.get(operation, { signal: options.signal }) : operation;
    yield* watchChanges(this.host, initial.name, initial, this.waitDefaults(options));
  }

  /**
   * Calls a long-running method and returns a handle on the operation it started. The handle's
   * response and metadata types are the ones given, else the method's `operation_info` types.
   * Not retried by default: a second attempt could start a second operation (pass `retry` when the
   * request has a `request_id`).
   */
  async start<I extends DescMessage, R extends DescMessage = DescMessage, M extends DescMessage = DescMessage>(
    method: DescMethodUnary<I, DescMessage>,
    request: MessageInitShape<I>,
    options: StartOptions<R, M> = {},
  ): Promise<OperationHandle<MessageShape<R>, MessageShape<M>>> {
    if (method.output.typeName !== OperationSchema.typeName) {
      throw new TypeError(`${method.parent.typeName}.${method.name} returns ${method.output.typeName}, not google.longrunning.Operation`);
    }
    this.registry.addFile(method.parent.file);
    const declared = operationTypes(method, this.registry);
    const types: OperationTypes = { response: options.response ?? declared.response, metadata: options.metadata ?? declared.metadata };
    const { response: _r, metadata: _m, progressField, ...call } = options;
    const operation = await this.invoke(method, create(method.input, request), OperationSchema, { retry: false, ...call });
    return new OperationHandle(this.host, operation, types, progressField);
  }

  /** A handle on an existing operation (by name, or as received). Nothing is fetched until asked. */
  operation<R extends DescMessage = DescMessage, M extends DescMessage = DescMessage>(
    operation: string | Operation,
    options: { response?: R; metadata?: M; progressField?: string } = {},
  ): OperationHandle<MessageShape<R>, MessageShape<M>> {
    const op = typeof operation === "string" ? create(OperationSchema, { name: operation }) : operation;
    return new OperationHandle(this.host, op, { response: options.response, metadata: options.metadata }, options.progressField);
  }

  close(): void {
    this.transport.close();
  }

  private waitDefaults<O extends WaitOptions>(options: O): O {
    return { waitChunkMs: this.waitChunkMs, ...options, polling: { ...this.polling, ...options.polling } };
  }

  /** One call, with the retry policy around it. */
  private async invoke<O extends DescMessage>(
    method: DescMethod,
    request: Message | MessageInitShape<DescMessage>,
    output: O,
    options: CallOptions,
  ): Promise<MessageShape<O>> {
    const message = create(method.input, request as MessageInitShape<DescMessage>);
    const policy = options.retry === undefined ? this.callRetry : options.retry;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.transport.call(method, message, output, { signal: options.signal, deadline: Date.now() + timeoutMs })) as MessageShape<O>;
      } catch (err) {
        if (!(err instanceof CallFailedError) || policy === false || !shouldRetry(policy, err.code, attempt)) throw err;
        await sleep(retryBackoffMs(policy, attempt), options.signal);
      }
    }
  }
}

/** The response and metadata types a method's `operation_info` declares, resolved like protoc resolves them. */
export function operationTypes(method: DescMethod, registry: Registry): OperationTypes {
  if (!hasOption(method, operation_info)) return {};
  const info = getOption(method, operation_info);
  const pkg = method.parent.file.proto.package;
  const where = `${method.parent.typeName}.${method.name}`;
  const resolve = (name: string, what: string): DescMessage | undefined => {
    if (name === "") return undefined;
    const schema = resolveMessage(registry, name, pkg);
    if (schema === undefined) throw new UnknownTypeError(name, `the operation_info.${what} of ${where}`);
    return schema;
  };
  return { response: resolve(info.responseType, "response_type"), metadata: resolve(info.metadataType, "metadata_type") };
}
