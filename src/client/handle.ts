import { create, type DescMessage, type Message, type Registry } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { Operation } from "../gen/google/longrunning/operations_pb.js";
import type { Status } from "../gen/google/rpc/status_pb.js";
import { typeNameOf, unpackAny } from "./any.js";
import { OperationFailedError } from "./errors.js";
import { progressPercent } from "./progress.js";
import type { CallOptions } from "./transport.js";
import { watchChanges, watchOperation, type WaitOptions, type WaitRpc, type WatchOptions } from "./wait.js";

/** The types an operation's `response` and `metadata` decode as. */
export interface OperationTypes {
  response?: DescMessage;
  metadata?: DescMessage;
}

/** One state of an operation, as `updates()` yields it. */
export interface OperationSnapshot<M extends Message = Message> {
  readonly name: string;
  readonly done: boolean;
  /** The decoded metadata (undefined if the operation has none). */
  readonly metadata: M | undefined;
  /** The progress in percent, read from the metadata's percentage field (see `progressPercent`). */
  readonly progressPercent: number | undefined;
  /** The operation's error, when it is done with one. */
  readonly error: Status | undefined;
  /** The Operation as received. */
  readonly operation: Operation;
}

export type UpdatesOptions = WatchOptions;

/** What a handle needs of its client. */
export interface HandleHost extends WaitRpc {
  readonly registry: Registry;
  cancel(name: string, options?: CallOptions): Promise<void>;
  delete(name: string, options?: CallOptions): Promise<void>;
  get(name: string, options?: CallOptions): Promise<Operation>;
  /** The client's defaults (polling schedule, wait chunk) under the options of one wait. */
  waitDefaults<O extends WaitOptions>(options: O): O;
}

/**
 * A long-running operation seen from the client: returned by `client.start(...)` (typed by the method's
 * operation_info, or the types given) and `client.operation(name)`.
 *
 * ```ts
 * const op = await client.start(Demo.method.sleep, { duration: { seconds: 30n } }, { response: SleepResponseSchema, metadata: SleepMetadataSchema });
 * for await (const s of op.updates()) console.log(s.metadata?.progressPercent);
 * const response = await op.result();   // SleepResponse, or throws OperationFailedError
 * ```
 */
export class OperationHandle<R extends Message = Message, M extends Message = Message> {
  private latest: Operation;

  constructor(
    private readonly host: HandleHost,
    operation: Operation,
    /** The types the response and metadata decode as; without them, the type their Any names, from the registry. */
    readonly types: OperationTypes = {},
    /** The metadata field holding progress in percent (dotted path); default: found by name (see progressField). */
    readonly progressFieldPath?: string,
  ) {
    this.latest = operation;
  }

  get name(): string {
    return this.latest.name;
  }

  /** The latest state received. */
  get operation(): Operation {
    return this.latest;
  }

  get done(): boolean {
    return this.latest.done;
  }

  /** The latest metadata, decoded (UnknownTypeError if its type is not in the client's registry). */
  get metadata(): M | undefined {
    return this.snapshotOf(this.latest).metadata;
  }

  /** The latest progress in percent, if the metadata type has a percentage field. */
  get progressPercent(): number | undefined {
    return this.snapshotOf(this.latest).progressPercent;
  }

  /** The latest state as a snapshot. */
  snapshot(): OperationSnapshot<M> {
    return this.snapshotOf(this.latest);
  }

  /** Fetches the latest state (GetOperation). */
  async refresh(options: CallOptions = {}): Promise<OperationSnapshot<M>> {
    this.latest = await this.host.get(this.name, options);
    return this.snapshotOf(this.latest);
  }

  /**
   * Resolves with the decoded response once the operation is done; rejects with OperationFailedError (the
   * operation's google.rpc.Status, details decoded) if it ended with an error — CANCELLED if it was cancelled.
   * Waits with WaitOperation, or polls with backoff where the server has none; `timeoutMs` bounds the wait
   * (WaitTimeoutError). An operation done with neither response nor error resolves with an empty response
   * (what google-gax does).
   */
  async result(options: WaitOptions = {}): Promise<R> {
    if (!this.latest.done) {
      for await (const op of watchOperation(this.host, this.name, this.host.waitDefaults(options))) this.latest = op;
    }
    return this.decodeResult();
  }

  /**
   * Yields the current state, then each change of it (metadata, progress, done) until the operation is
   * done; the last snapshot yielded is the done one. Breaking out of the loop stops watching.
   */
  async *updates(options: UpdatesOptions = {}): AsyncGenerator<OperationSnapshot<M>, void, undefined> {
    for await (const op of watchChanges(this.host, this.name, this.latest, this.host.waitDefaults(options))) {
      this.latest = op;
      yield this.snapshotOf(op);
    }
  }

  /** Asks the server to cancel the operation (CancelOperation); it then ends with CANCELLED, unless it finishes first. */
  cancel(options: CallOptions = {}): Promise<void> {
    return this.host.cancel(this.name, options);
  }

  /** Deletes the operation (DeleteOperation): the server forgets it; it is not cancelled. */
  delete(options: CallOptions = {}): Promise<void> {
    return this.host.delete(this.name, options);
  }

  private snapshotOf(op: Operation): OperationSnapshot<M> {
    let metadata: M | undefined;
    let schema: DescMessage | undefined;
    if (op.metadata !== undefined) {
      metadata = unpackAny(op.metadata, this.host.registry, this.types.metadata, `the metadata of ${op.name}`) as M;
      schema = this.types.metadata ?? this.host.registry.getMessage(typeNameOf(op.metadata));
    }
    return {
      name: op.name,
      done: op.done,
      metadata,
      progressPercent: progressPercent(metadata, schema, this.progressFieldPath),
      error: op.result.case === "error" ? op.result.value : undefined,
      operation: op,
    };
  }

  private decodeResult(): R {
    const op = this.latest;
    switch (op.result.case) {
      case "error":
        throw new OperationFailedError(op.name, op.result.value, this.host.registry);
      case "response":
        return unpackAny(op.result.value, this.host.registry, this.types.response, `the response of ${op.name}`) as R;
      default:
        return create(this.types.response ?? EmptySchema) as unknown as R;
    }
  }
}
