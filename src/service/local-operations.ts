import { create, fromBinary, type DescMessage, type DescMethodUnary, type Message, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { anyIs, anyUnpack } from "@bufbuild/protobuf/wkt";
import type { Operation } from "../gen/google/longrunning/operations_pb.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { Code, isErrorCode } from "../core/code.js";
import { notFound, Reason, RpcError, shuttingDown } from "../core/errors.js";
import type { OperationRecord, OperationView, Store } from "../store/store.js";
import type { Runtime, StartOptions } from "../runtime/runtime.js";
import { methodFullName, type MethodDefinition, type TypedMethodDeclaration } from "../runtime/methods.js";
import { Batcher } from "../runtime/batch.js";
import type { Clock } from "../runtime/clock.js";
import { toOperation } from "./operation.js";
import type { Waiters, Woken } from "./waiters.js";

/** An operation as read (a view) or as just finished here (what woke its waiters): what a handle needs. */
type Seen = OperationView | NonNullable<Woken>;

/** How an operation is started in-process, besides its method and request. */
export interface LocalStartOptions<Response extends DescMessage = DescMessage> extends Pick<StartOptions, "principal" | "resource"> {
  /**
   * The response type `result()` is typed by, when the method is given as a descriptor or a name (a
   * declaration types it by itself). Checked against the method's: a different type is a TypeError.
   */
  response?: Response;
}

/** A long-running method as `start` accepts it: its declaration (typed), its RPC descriptor, or its full name. */
export type LocalMethod<Request extends DescMessage, Response extends DescMessage> =
  | TypedMethodDeclaration<Request, Response, DescMessage>
  | DescMethodUnary<Request, DescMessage>
  | string;

export interface LocalOperationsOptions {
  store: Store;
  runtime: Runtime;
  /** The service's waiters: a result is awaited on the same registry as WaitOperation calls. */
  waiters: Waiters;
  clock: Clock;
}

/**
 * The library API (`server.operations`): starts operations and awaits their results in this process,
 * without RPC and without authentication (the caller is the process itself). A result is awaited on the
 * service's waiters: woken at once by this runtime's own finishes, and by the store's change feed when
 * another instance finished it. Nothing polls.
 *
 * ```ts
 * const op = await server.operations.start(sleep, { duration: { seconds: 1n } });
 * const response = await op.result(); // SleepResponse, or throws RpcError with the operation's status
 * ```
 */
export class LocalOperations {
  /** Single reads made at the same time go to the store as one getViews (as the service's do). */
  private readonly reads: Batcher<string, OperationView | undefined>;
  /** The awaited results, rejected when the server closes. */
  private readonly pending = new Set<(err: RpcError) => void>();
  private closed = false;

  constructor(private readonly options: LocalOperationsOptions) {
    this.reads = new Batcher((ids) => options.store.getViews(ids, options.clock.now()));
  }

  /**
   * Starts one operation of a served method (validated as its RPC would be; concurrent starts share one
   * store write) and returns a handle on it, once its creation is committed. An unknown method is an
   * RpcError UNIMPLEMENTED; an invalid request, the method's own INVALID_ARGUMENT.
   */
  async start<Request extends DescMessage, Response extends DescMessage = DescMessage>(
    method: LocalMethod<Request, Response>,
    request: MessageInitShape<Request>,
    options: LocalStartOptions<Response> = {},
  ): Promise<LocalOperation<MessageShape<Response>>> {
    const definition = this.definition(method, options.response);
    const record = await this.options.runtime.startOperation(definition.fullName, create(definition.request, request as MessageInitShape<DescMessage>), startOptions(options));
    return new LocalOperation(this, definition, record);
  }

  /**
   * Starts one operation per request in one store write (`runtime.startOperations`): all or none, handles
   * in the order of `requests`.
   */
  async startMany<Request extends DescMessage, Response extends DescMessage = DescMessage>(
    method: LocalMethod<Request, Response>,
    requests: readonly MessageInitShape<Request>[],
    options: LocalStartOptions<Response> = {},
  ): Promise<LocalOperation<MessageShape<Response>>[]> {
    const definition = this.definition(method, options.response);
    const messages = requests.map((request) => create(definition.request, request as MessageInitShape<DescMessage>));
    const records = await this.options.runtime.startOperations(definition.fullName, messages, startOptions(options));
    return records.map((record) => new LocalOperation(this, definition, record));
  }

  /** Rejects the results still awaited with UNAVAILABLE: the server is closing (after its handlers stopped). */
  close(): void {
    this.closed = true;
    for (const reject of [...this.pending]) reject(shuttingDown());
  }

  /** The operation as stored now; NOT_FOUND once deleted or expired. */
  async read(id: string, name: string): Promise<OperationView> {
    const record = await this.reads.add(id);
    if (!record || record.name !== name) throw notFound(name);
    return record;
  }

  /**
   * The operation once it is done: watched before it is read, so a finish between the read and the wait
   * is not missed; woken by the waiters (this runtime's finish, with the record written; another
   * instance's, through the change feed: read again). `signal` gives up, rejecting with its reason.
   */
  async untilDone(id: string, name: string, signal: AbortSignal | undefined): Promise<Seen> {
    if (this.closed) throw shuttingDown();
    signal?.throwIfAborted();
    let reject!: (err: unknown) => void;
    const given = new Promise<never>((_, r) => (reject = r));
    const onAbort = (): void => reject(signal?.reason);
    this.pending.add(reject);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        const watch = this.options.waiters.watch(id);
        try {
          const record = await Promise.race([this.read(id, name), given]);
          if (record.state === "done") return record;
          const woken = await Promise.race([watch.changed, given]);
          if (woken && woken.name === name && woken.expireTime > this.options.clock.now()) return woken;
        } finally {
          watch.cancel();
        }
      }
    } finally {
      this.pending.delete(reject);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  cancel(id: string, name: string): Promise<void> {
    return this.options.runtime.cancel(id, name);
  }

  private definition(method: LocalMethod<DescMessage, DescMessage>, response: DescMessage | undefined): MethodDefinition {
    const fullName = typeof method === "string" ? method : methodFullName("kind" in method ? method : method.method);
    const definition = this.options.runtime.methods.get(fullName);
    if (!definition) {
      throw new RpcError(Code.UNIMPLEMENTED, `Method ${fullName} is not served here.`, { reason: Reason.UNIMPLEMENTED, metadata: { method: fullName } });
    }
    if (response && response.typeName !== definition.response.typeName) {
      throw new TypeError(`${fullName} responds with ${definition.response.typeName}, not ${response.typeName}`);
    }
    return definition;
  }
}

/**
 * An operation started in this process (`server.operations.start`): its name, its state, its result.
 * `Response` is the decoded response message.
 */
export class LocalOperation<Response extends Message = Message> {
  readonly name: string;
  private readonly id: string;
  private done: Seen | undefined;

  constructor(
    private readonly host: LocalOperations,
    private readonly definition: MethodDefinition,
    record: OperationRecord,
  ) {
    this.name = record.name;
    this.id = record.id;
    if (record.state === "done") this.done = record;
  }

  /** The operation as stored now, as GetOperation answers it (NOT_FOUND once deleted or expired). */
  async get(): Promise<Operation> {
    return toOperation(await this.host.read(this.id, this.name));
  }

  /**
   * Resolves with the decoded response once the operation is done; rejects with an RpcError carrying the
   * operation's error (code, message, details; `reason` and `metadata` from its ErrorInfo, if it has one)
   * if it failed, CANCELLED if it was cancelled — NOT_FOUND if it was deleted, UNAVAILABLE if the server
   * closes first. `signal` stops waiting (the operation goes on). Immediate when it is already done.
   */
  async result(options: { signal?: AbortSignal } = {}): Promise<Response> {
    this.done ??= await this.host.untilDone(this.id, this.name, options.signal);
    const record = this.done;
    if (record.error) throw operationError(fromBinary(StatusSchema, record.error.status));
    if (!record.response) return create(this.definition.response) as unknown as Response;
    return fromBinary(this.definition.response, record.response.value) as unknown as Response;
  }

  /** CancelOperation, in-process: a queued operation ends at once, a running one through its handler's signal. */
  cancel(): Promise<void> {
    return this.host.cancel(this.id, this.name);
  }
}

/** The operation's error as an RpcError: its status as stored, with the reason and metadata of its ErrorInfo. */
function operationError(status: Status): RpcError {
  const info = status.details.find((d) => anyIs(d, ErrorInfoSchema));
  const unpacked = info ? anyUnpack(info, ErrorInfoSchema) : undefined;
  return new RpcError(isErrorCode(status.code) ? status.code : Code.UNKNOWN, status.message, {
    details: status.details,
    reason: unpacked?.reason,
    metadata: unpacked?.metadata,
  });
}

function startOptions(options: LocalStartOptions): StartOptions {
  return { principal: options.principal, resource: options.resource };
}
