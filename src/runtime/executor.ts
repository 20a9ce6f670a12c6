import { create, fromBinary, toBinary, type Message, type Registry } from "@bufbuild/protobuf";
import type { Status } from "../gen/google/rpc/status_pb.js";
import { Code } from "../core/code.js";
import { DEFAULTS } from "../core/defaults.js";
import { leaseLost, operationTooLarge, RpcError, toRpcError } from "../core/errors.js";
import type { LogFields, Logger } from "../core/logger.js";
import type { OperationRecord, ProgressUpdate, RetryLater, Store, StoredAny } from "../store/store.js";
import type { Clock, Timer } from "./clock.js";
import { countedAttempts, deadlineMessage, nextAttemptTime } from "./scheduling.js";
import type { OperationContext } from "./methods.js";
import type { MethodRegistry } from "./registry.js";
import { RunningOperation } from "./running-operation.js";
import { cancelledStatus, encodeError, packStored, servableStatus, statusOf } from "./status.js";
import type { ResultWriter } from "./writer.js";
import { NO_METRICS, type RuntimeMetrics } from "./metrics.js";
import type { ExecutionSpan, RuntimeTracing } from "./tracing.js";

/** What an attempt ended with; `final`: an error no retry policy may retry (the operation could not run at all). */
type Outcome = { response: Message } | { error: Status; final?: boolean };

/** What one operation may hold, in encoded bytes (docs/api.md, "Limits"). */
export interface OperationLimits {
  /** A larger response fails the operation RESOURCE_EXHAUSTED instead of being stored. @default DEFAULTS.maxResponseBytes (1 MiB) */
  maxResponseBytes: number;
  /** A ctx.progress making the metadata larger is refused RESOURCE_EXHAUSTED. @default DEFAULTS.maxMetadataBytes (256 KiB) */
  maxMetadataBytes: number;
  /** A larger error (google.rpc.Status) is stored truncated. @default DEFAULTS.maxErrorBytes (64 KiB) */
  maxErrorBytes: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxResponseBytes: DEFAULTS.maxResponseBytes.value,
  maxMetadataBytes: DEFAULTS.maxMetadataBytes.value,
  maxErrorBytes: DEFAULTS.maxErrorBytes.value,
};

export interface ExecutorOptions {
  methods: MethodRegistry;
  /** The protobuf registry: which error details can be served. */
  registry: Registry;
  writer: ResultWriter;
  /** Read once when a write is refused, to tell a deleted operation from a lost lease. */
  store: Store;
  clock: Clock;
  log: Logger;
  /** Handlers running at once. */
  concurrency: number;
  /** A handler returned: its slot is free for the next claim. */
  onSlotFreed: () => void;
  /** @default DEFAULT_OPERATION_LIMITS */
  limits?: OperationLimits;
  /** Told how long each handler ran, and of lost leases. @default NO_METRICS */
  metrics?: RuntimeMetrics;
  /** Traces each handler's run, in the trace of the operation's start. @default none (nothing traced) */
  tracing?: RuntimeTracing | undefined;
  /** Draws the jitter of retry backoffs, in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Runs claimed operations: one handler's life each — its context, its signal, coalesced progress writes,
 * and its outcome (a response, or a `google.rpc.Status`) handed to the writer — and counts the slots
 * they take (`concurrency`).
 */
export class Executor {
  /** Claimed operations whose handler runs or whose result is being written, by id. */
  readonly running = new Map<string, RunningOperation>();
  /** Handlers running now: what `concurrency` bounds. */
  private handlersRunning = 0;
  /** Called once `running` is empty: what a stop waits for, within its grace period. */
  private readonly onIdle: (() => void)[] = [];

  private readonly limits: OperationLimits;
  private readonly metrics: RuntimeMetrics;
  private readonly random: () => number;

  constructor(private readonly options: ExecutorOptions) {
    this.limits = options.limits ?? DEFAULT_OPERATION_LIMITS;
    this.metrics = options.metrics ?? NO_METRICS;
    this.random = options.random ?? Math.random;
  }

  get freeSlots(): number {
    return this.options.concurrency - this.handlersRunning;
  }

  /** Starts the handler of each claimed operation; never throws. */
  /** Runs the claimed operations' handlers; each waits for `ready` first, if given (their start's announcement). */
  run(records: readonly OperationRecord[], ready?: Promise<void>): void {
    const now = this.options.clock.now();
    for (const record of records) {
      const method = this.options.methods.get(record.method);
      if (!method) continue; // claim only returns our methods
      const operation = new RunningOperation(record, method, now);
      // Claimed again while an older attempt still runs here: its lease expired under it (the process was
      // paused, the clock jumped). The newer attempt owns the operation; the older one is told so.
      const older = this.running.get(record.id);
      if (older?.isHeld) {
        this.metrics.leaseLost();
        this.loseLease(older, leaseLost(older.record.name));
      }
      this.running.set(record.id, operation);
      this.handlersRunning++;
      void this.runToEnd(operation, ready);
    }
  }

  /** Cancellation was requested: the handler's signal fires, and readers see cancel_requested at once. */
  cancel(operation: RunningOperation): void {
    if (operation.phase !== "running") return;
    operation.phase = "cancelling";
    operation.abort(new RpcError(Code.CANCELLED, "The operation was cancelled."));
    operation.metadata = operation.method.codec.markCancelRequested(operation.metadata);
    void this.writeProgress(operation).catch(() => undefined);
  }

  /**
   * A fenced write or heartbeat was refused: either the operation was deleted (the handler carries on,
   * unheard) or another worker took it over (the handler is aborted). One read tells which; it is rare.
   */
  async refused(operation: RunningOperation): Promise<void> {
    if (!operation.isHeld) return;
    const current = await this.options.store.get(operation.id, this.options.clock.now());
    if (!operation.isHeld) return;
    if (current === undefined) {
      operation.phase = "deleted";
    } else {
      this.metrics.leaseLost();
      this.loseLease(operation, leaseLost(operation.record.name));
    }
  }

  loseLease(operation: RunningOperation, reason: RpcError): void {
    if (!operation.isHeld) return;
    operation.phase = "lease-lost";
    operation.abort(reason);
  }

  /** Resolves once nothing runs here, or after `graceMs`, whichever is first. */
  async whenIdle(graceMs: number): Promise<void> {
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = this.options.clock.after(graceMs, resolve);
      this.onIdle.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /**
   * Runs the handler and writes its result; never rejects. One async function, not a chain of them or of
   * .then handlers: each link would be one more promise kept alive per running operation (bench wait:
   * 10,000 pending).
   */
  private async runToEnd(operation: RunningOperation, ready: Promise<void> | undefined): Promise<void> {
    try {
      let outcome: Outcome;
      try {
        if (ready) await ready;
        outcome = await this.outcomeOf(operation);
      } finally {
        // A handler that returned gives its slot to the next operation at once: its result's write (batched,
        // and retried through store outages) need not hold a slot, so claiming the next batch overlaps with
        // committing this one's results.
        this.handlersRunning--;
        this.options.onSlotFreed();
      }
      // Lease lost: another worker owns it now and its result wins. Deleted: nobody wants the result.
      if (operation.isAbandoned) return;
      const cancelled = operation.phase === "cancelling";
      operation.phase = "writing";
      if ("error" in outcome && !cancelled && outcome.final !== true) {
        const retryAt = this.retryTime(operation, outcome.error.code);
        if (retryAt !== undefined) {
          await this.options.writer.retryLater(this.retryRequest(operation, outcome.error, retryAt));
          return;
        }
      }
      await this.options.writer.finish(this.finishRequest(operation, outcome, cancelled));
    } catch (err) {
      this.options.log(`finishing ${operation.record.name} failed`, err, aboutOperation(operation.record));
    } finally {
      // Only its own entry: a newer attempt of the same operation may have taken its place (see run).
      if (this.running.get(operation.id) === operation) this.running.delete(operation.id);
      if (this.running.size === 0) for (const resolve of this.onIdle.splice(0)) resolve();
    }
  }

  /** What the operation ends with: its handler's result, or why it could not run. */
  private async outcomeOf(operation: RunningOperation): Promise<Outcome> {
    const { record, method } = operation;
    const { definition } = method;
    const interrupted = interruptedOutcome(operation, this.options.clock.now());
    if (interrupted) return { error: interrupted, final: true };
    let request: Message;
    try {
      request = fromBinary(definition.request, record.request);
    } catch {
      return { error: statusOf(Code.DATA_LOSS, "The stored request could not be decoded.") };
    }
    const started = this.options.clock.now();
    const span = this.options.tracing?.execution(record);
    const timeout = this.attemptTimeout(operation, started);
    // The attempt's timeout error once its timer fired; a cancellation that came first stays a cancellation.
    const timedOut = (): RpcError | undefined => (timeout?.fired === true && operation.phase !== "cancelling" ? timeout.error : undefined);
    try {
      const ctx = this.contextFor(operation, span);
      const result = await (span ? span.run(() => definition.handler(request, ctx)) : definition.handler(request, ctx));
      // Past its time the attempt has failed, whatever the handler made of it (as a lease lost would).
      const late = timedOut();
      if (late !== undefined) throw late;
      const response = create(definition.response, result as never) as Message;
      span?.end(Code.OK);
      return { response };
    } catch (err) {
      const error = this.errorOutcome(operation, timedOut() ?? err);
      span?.end(error.code, error.message);
      return { error };
    } finally {
      timeout?.timer.cancel();
      this.metrics.handled(definition.fullName, (this.options.clock.now() - started) / 1000);
    }
  }

  /**
   * The attempt's time limit — the method's attemptTimeoutMs, or what is left before the operation's
   * deadline if sooner — as a timer that aborts the handler's signal with DEADLINE_EXCEEDED; none if neither.
   */
  private attemptTimeout(operation: RunningOperation, now: number): { timer: Timer; error: RpcError; fired: boolean } | undefined {
    const { attemptTimeoutMs } = operation.method.definition.scheduling;
    const { deadline } = operation.record;
    const untilDeadline = deadline === undefined ? undefined : deadline - now;
    const limit = attemptTimeoutMs === undefined ? untilDeadline : untilDeadline === undefined ? attemptTimeoutMs : Math.min(attemptTimeoutMs, untilDeadline);
    if (limit === undefined) return undefined;
    const error =
      limit === untilDeadline && deadline !== undefined
        ? new RpcError(Code.DEADLINE_EXCEEDED, deadlineMessage(deadline))
        : new RpcError(Code.DEADLINE_EXCEEDED, `The attempt took longer than ${limit} ms, its method's attemptTimeoutMs.`);
    const timeout = {
      error,
      fired: false,
      timer: this.options.clock.after(limit, () => {
        if (!operation.isHeld) return;
        timeout.fired = true;
        operation.abort(error);
      }),
    };
    return timeout;
  }

  /** When the failed attempt is to be run again (the method's retry policy), or undefined: it ends the operation. */
  private retryTime(operation: RunningOperation, code: number): number | undefined {
    const { record, method } = operation;
    const policy = method.definition.scheduling.retry;
    return nextAttemptTime(policy, countedAttempts(policy, record), code, this.options.clock.now(), record.deadline, this.random);
  }

  private retryRequest(operation: RunningOperation, error: Status, runAfter: number): RetryLater {
    const { record } = operation;
    return { id: record.id, attempt: record.attempt, runAfter, error: encodeError(error, this.limits.maxErrorBytes) };
  }

  private errorOutcome(operation: RunningOperation, err: unknown): Status {
    // A handler that stops because of cancellation (throwing the signal's reason or anything else)
    // ends CANCELLED; an RpcError it throws on purpose with another code keeps that code.
    if (operation.phase === "cancelling" && !(err instanceof RpcError && err.code !== Code.CANCELLED)) {
      return cancelledStatus();
    }
    return servableStatus(toRpcError(err).toOperationStatus(), this.options.registry, operation.record.name, (message, e, fields) => this.options.log(message, e, { ...aboutOperation(operation.record), ...fields }));
  }

  private finishRequest(operation: RunningOperation, outcome: Outcome, cancelled: boolean) {
    const { record, method } = operation;
    const { codec, definition } = method;
    const now = this.options.clock.now();
    const metadata =
      (operation.metadataAsClaimed ? codec.finalEncoded(record.metadata, now, cancelled) : undefined) ??
      codec.encode(codec.final(operation.metadata, now, cancelled));
    const fenced = { id: record.id, name: record.name, method: record.method, principal: record.principal, resource: record.resource, attempt: record.attempt, metadata };
    const { maxResponseBytes, maxErrorBytes } = this.limits;
    if ("error" in outcome) return { ...fenced, error: encodeError(outcome.error, maxErrorBytes) };
    const response = toBinary(definition.response, outcome.response);
    if (response.byteLength <= maxResponseBytes) return { ...fenced, response: packStored(definition.response.typeName, response) };
    // Stored whole, one such operation would make every List page holding it too large for clients.
    this.options.log(`${record.name}: the handler's response is ${response.byteLength} bytes, over the ${maxResponseBytes}-byte limit; the operation fails RESOURCE_EXHAUSTED`, undefined, aboutOperation(record));
    return { ...fenced, error: encodeError(operationTooLarge("response", response.byteLength, maxResponseBytes).toOperationStatus(), maxErrorBytes) };
  }

  private contextFor(operation: RunningOperation, span: ExecutionSpan | undefined): OperationContext {
    const executor = this;
    return {
      name: operation.record.name,
      traceContext: span?.context,
      attempt: operation.record.attempt,
      principal: operation.record.principal,
      get signal() {
        return operation.signal;
      },
      control: operation.control,
      get metadata() {
        return operation.metadata;
      },
      async progress(partial: object): Promise<void> {
        const { codec } = operation.method;
        const merged = codec.merge(operation.metadata, partial);
        const encoded = codec.encode(merged);
        const { maxMetadataBytes } = executor.limits;
        // Refused whole: the operation keeps its metadata as it was, and goes on.
        if (encoded.value.byteLength > maxMetadataBytes) throw operationTooLarge("metadata", encoded.value.byteLength, maxMetadataBytes);
        operation.metadata = merged;
        if (operation.phase === "deleted") return;
        const applied = await executor.writeProgress(operation, encoded);
        if (!applied && !operation.wasDeleted) throw leaseLost(operation.record.name);
      },
    } as OperationContext;
  }

  /** Queues the current metadata; a write still queued for this operation takes it instead of a new one. */
  private writeProgress(operation: RunningOperation, encoded?: StoredAny): Promise<boolean> {
    const metadata = encoded ?? operation.method.codec.encode(operation.metadata);
    const pending = operation.pendingProgress;
    if (pending) {
      pending.update.metadata = metadata;
      return pending.done;
    }
    const update: ProgressUpdate = { id: operation.id, attempt: operation.record.attempt, metadata };
    const done = this.options.writer.progress(update).then(async (applied) => {
      if (!applied) await this.refused(operation);
      return applied;
    });
    operation.pendingProgress = { update, done };
    // The batcher reads `update` when it flushes; from then on a new call must queue a new write. Both
    // outcomes handled here: `finally` would pass a failed write on as a rejection nobody awaits (a store
    // closed under a cancel at shutdown made it an unhandled rejection).
    const settled = () => {
      if (operation.pendingProgress?.update === update) operation.pendingProgress = undefined;
    };
    done.then(settled, settled);
    return done;
  }
}

/**
 * The status an operation ends with before its handler runs: cancellation requested, its deadline passed,
 * or its previous attempt interrupted (worker lost) when the method does not allow another.
 */
function interruptedOutcome(operation: RunningOperation, now: number): Status | undefined {
  const { record, method } = operation;
  const { definition } = method;
  if (record.cancelRequested) return cancelledStatus();
  if (record.deadline !== undefined && now >= record.deadline) return statusOf(Code.DEADLINE_EXCEEDED, deadlineMessage(record.deadline));
  // The first attempt, or a retry of a failed one (Store.retryLater): not an interrupted attempt's sequel.
  if (record.attempt <= 1 || record.lastFailure?.attempt === record.attempt - 1) return undefined;
  if (!definition.retryable) {
    return statusOf(
      Code.ABORTED,
      `The operation was interrupted (its worker stopped or lost its lease) and ${definition.fullName} is not retryable.`,
    );
  }
  // Counting every attempt: the policy's limit (or the method's). Counting failures only: interruptions
  // alone are bounded by the method's maxAttempts, so that a crash loop still ends.
  const policy = definition.scheduling.retry;
  const counted = policy === undefined || policy.countInterruptions ? record.attempt : (record.interruptions ?? 0) + 1;
  const limit = policy === undefined || !policy.countInterruptions ? definition.maxAttempts : policy.maxAttempts;
  if (counted > limit) {
    const interrupted = record.interruptions ?? record.attempt - 1;
    return statusOf(
      Code.ABORTED,
      `The operation was interrupted ${interrupted} times (its worker stopped or lost its lease); gave up after ${record.attempt - 1} attempts.`,
    );
  }
  return undefined;
}

/** The fields of a log line about one operation. */
function aboutOperation(record: { name: string; method: string }): LogFields {
  return { operation: record.name, method: record.method };
}
