import type { Message } from "@bufbuild/protobuf";
import type { OperationRecord, ProgressUpdate } from "../store/store.js";
import { ControlChannel } from "./control.js";
import type { RegisteredMethod } from "./registry.js";

/**
 * Where a claimed operation is in its life in this process, one state at a time:
 * - `running`: its handler runs and this worker holds the lease;
 * - `cancelling`: the same, after cancellation was requested (the handler's signal has fired);
 * - `writing`: the handler returned; its result is being written (its slot is already free);
 * - `lease-lost`: another worker owns it now, or shutdown gave it back: nothing more is written;
 * - `deleted`: DeleteOperation removed it: the handler goes on (delete does not cancel), unheard.
 * running → cancelling → writing; running | cancelling → lease-lost | deleted. The last two, and the end
 * of `writing`, remove it from the executor.
 */
export type RunPhase = "running" | "cancelling" | "writing" | "lease-lost" | "deleted";

/** One claimed operation in this process: what its handler sees and what the runtime knows of it. */
export class RunningOperation {
  phase: RunPhase;
  /** Made when the handler looks at ctx.signal or it is aborted: most handlers never do (see `signal`). */
  private controller: AbortController | undefined;
  /** Set once the metadata is decoded or replaced (`metadata`). */
  #metadata: Message | undefined;
  /**
   * The metadata is still the record's as claimed: nothing replaced it (progress, a cancellation). Its
   * final form then depends only on the stored bytes (MetadataCodec.finalEncoded).
   */
  metadataAsClaimed = true;
  readonly control: ControlChannel;
  /** A progress write queued but not yet sent: later calls replace its metadata instead of queueing more. */
  pendingProgress: { update: ProgressUpdate; done: Promise<boolean> } | undefined;

  constructor(
    readonly record: OperationRecord,
    readonly method: RegisteredMethod,
    private readonly claimedAt: number,
  ) {
    this.phase = record.cancelRequested ? "cancelling" : "running";
    this.control = new ControlChannel(record.control, () => this.signal);
    this.pendingProgress = undefined;
  }

  /**
   * The metadata as the handler last set it (written, or about to be). Decoded from the record when first
   * read: a handler that reports no progress never needs it decoded.
   */
  get metadata(): Message {
    return (this.#metadata ??= this.method.codec.decode(this.record.metadata, this.claimedAt));
  }

  set metadata(message: Message) {
    this.#metadata = message;
    this.metadataAsClaimed = false;
  }

  get id(): string {
    return this.record.id;
  }

  /** Its handler still runs for this worker's lease (and so may be cancelled or lose the lease). */
  get isHeld(): boolean {
    return this.phase === "running" || this.phase === "cancelling";
  }

  /** Nothing more is to be written for it: another worker owns it, or it was deleted. */
  get isAbandoned(): boolean {
    return this.phase === "lease-lost" || this.phase === "deleted";
  }

  /** DeleteOperation removed it (a getter, so a check after an await reads the phase anew). */
  get wasDeleted(): boolean {
    return this.phase === "deleted";
  }

  /**
   * The handler's signal, made on first use: an AbortController per operation (and its DOMException-building
   * signal) was about 2% of a worker's CPU in the drain benchmark, for handlers that mostly never look at it.
   */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  abort(reason: unknown): void {
    (this.controller ??= new AbortController()).abort(reason);
  }
}
