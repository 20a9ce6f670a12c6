import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { create, fromBinary, toBinary, type Message, type Registry } from "@bufbuild/protobuf";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { Code, isErrorCode } from "../core/code.js";
import { invalidArgument, notFound, Reason, RpcError, toRpcError } from "../core/errors.js";
import { newOperationId } from "../core/ids.js";
import { OperationNames } from "../core/names.js";
import { TYPE_URL_PREFIX } from "../core/registry.js";
import type {
  ChangeEvent,
  CreateResult,
  FinishRequest,
  NewOperation,
  OperationRecord,
  OperationView,
  ProgressUpdate,
  Store,
  StoredAny,
  StoredError,
} from "../store/store.js";
import { Batcher } from "./batch.js";
import { ControlChannel } from "./control.js";
import { MetadataCodec } from "./metadata.js";
import { resolveMethod, type MethodDeclaration, type MethodDefinition, type OperationContext } from "./methods.js";

export interface RuntimeOptions {
  store: Store;
  registry: Registry;
  methods: readonly MethodDeclaration[];
  names?: OperationNames;
  /** Run handlers in this process. false: only start operations (another instance runs them). @default true */
  worker?: boolean;
  /** Handlers running at once in this process. @default 64 */
  concurrency?: number;
  /** How long a claim holds an operation without a heartbeat. @default 30_000 */
  leaseMs?: number;
  /**
   * Backoff before an interrupted operation is run again: `initialMs × 2^(attempt − 1)`, at most `maxMs`,
   * and never before the lost worker's lease expired. @default { initialMs: 1000, maxMs: 60_000 }
   */
  retryBackoff?: { initialMs: number; maxMs: number };
  /** How long done operations are kept (AIP-151 suggests 30 days). @default 30 days */
  retentionMs?: number;
  /** How often expired done operations are deleted (they are invisible from expiry on). @default 1 hour */
  purgeIntervalMs?: number;
  /** Identifies this instance in leases. @default `${hostname}:${pid}:${random}` */
  instanceId?: string;
  /** Where unexpected errors (store failures in the background) are reported. @default console.error */
  log?: (message: string, err?: unknown) => void;
  clock?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_REQUEST_ID_LENGTH = 64;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
/** Backoff before re-trying a claim after the store failed, so an outage is not a busy loop. */
const CLAIM_RETRY_MS = 1000;
/** Backoff of result and progress writes while the store is unavailable: from the first to the last. */
const WRITE_RETRY_MS = { initial: 100, max: 5000 };
/**
 * Leases extended per heartbeat statement, one statement after another with the event loop free between:
 * one statement for 10,000 running operations held their rows locked (PostgreSQL) or the event loop
 * (SQLite) long enough to show in the tail of every other write and answer (bench wait: p99).
 */
const HEARTBEAT_CHUNK = 500;

/** A finish this runtime writes: the store's request, and the name it serves the operation under. */
type NamedFinish = FinishRequest & { name: string };

/**
 * An operation this runtime just finished, as readers would now find it: what a local WaitOperation is
 * answered with, instead of reading the row it just wrote.
 */
export interface FinishedOperation {
  id: string;
  /** The operation as stored, done; undefined if the write was refused (another result won): read it. */
  record: (Omit<OperationView, "id" | "state"> & { state: "done"; expireTime: number }) | undefined;
}

/**
 * What the runtime tells the service's waiters about the results it writes. A "done" change event for an
 * operation whose finish is still being written here is left to `onFinished`, which follows it at once
 * with the written result (or with none, if the write was refused).
 */
export interface LocalFinishes {
  isFinishing(id: string): boolean;
  onFinished(listener: (finished: readonly FinishedOperation[]) => void): () => void;
}

interface Running {
  record: OperationRecord;
  definition: MethodDefinition;
  codec: MetadataCodec;
  /** Made when the handler looks at ctx.signal or it is aborted: most handlers never do (see `signalOf`). */
  controller: AbortController | undefined;
  metadata: Message;
  cancelRequested: boolean;
  control: ControlChannel;
  leaseLost: boolean;
  /** DeleteOperation removed it: the handler goes on (delete does not cancel), nothing more is written. */
  deleted: boolean;
  /** Its handler is done (or never ran): it no longer takes one of the `concurrency` slots. */
  slotFreed: boolean;
  /** A progress write queued but not yet sent: later calls replace its metadata instead of queueing more. */
  pendingProgress: { update: ProgressUpdate; done: Promise<boolean> } | undefined;
}

/**
 * Runs long-running methods: creates operations when they are started, and (as a worker) claims them from
 * the store, runs their handlers, writes progress and results — all batched, and woken by the store's
 * change feed rather than by polling.
 */
export class Runtime implements LocalFinishes {
  readonly names: OperationNames;
  readonly instanceId: string;
  private readonly store: Store;
  private readonly registry: Registry;
  private readonly definitions = new Map<string, MethodDefinition>();
  private readonly codecs = new Map<string, MetadataCodec>();
  /** Claimed operations whose handler runs or whose result is being written, by id. */
  private readonly running = new Map<string, Running>();
  /** Handlers running now: what `concurrency` bounds. */
  private handlersRunning = 0;
  private readonly worker: boolean;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly retryBackoff: { initialMs: number; maxMs: number };
  private readonly retentionMs: number;
  private readonly purgeIntervalMs: number;
  private readonly log: (message: string, err?: unknown) => void;
  private readonly now: () => number;

  private readonly creates: Batcher<NewOperation, CreateResult>;
  private readonly progressWrites: Batcher<ProgressUpdate, boolean>;
  private readonly finishes: Batcher<NamedFinish, boolean>;
  /** Ids in the finish statement being written now (the batcher writes one at a time). */
  private readonly finishing = new Set<string>();
  private readonly finishedListeners = new Set<(finished: readonly FinishedOperation[]) => void>();
  private readonly cancels: Batcher<string, OperationRecord | undefined>;

  private unsubscribe: (() => void) | undefined;
  private claiming = false;
  private claimAgain = false;
  private lookAheadsStarted = 0;
  private saturated = false;
  private stopping = false;
  private dueTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private purgeTimer: NodeJS.Timeout | undefined;
  /** Called once `running` is empty: what stop() waits for, within its grace period. */
  private readonly onIdle: (() => void)[] = [];

  constructor(options: RuntimeOptions) {
    this.store = options.store;
    this.registry = options.registry;
    this.names = options.names ?? new OperationNames();
    this.worker = options.worker ?? true;
    this.concurrency = options.concurrency ?? 64;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.retryBackoff = options.retryBackoff ?? { initialMs: 1000, maxMs: 60_000 };
    this.retentionMs = options.retentionMs ?? 30 * DAY_MS;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60 * 60 * 1000;
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.log = options.log ?? ((message, err) => console.error(`longrun: ${message}`, err ?? ""));
    this.now = options.clock ?? Date.now;
    for (const declaration of options.methods) {
      const definition = resolveMethod(declaration, options.registry);
      if (this.definitions.has(definition.fullName)) throw new Error(`${definition.fullName} is defined twice`);
      if (this.names.parentPattern !== "" && !definition.parentOf) {
        throw new Error(
          `${definition.fullName} cannot name its operations under ${this.names.parentPattern}: its request has no parent field (declare \`parent\`)`,
        );
      }
      this.definitions.set(definition.fullName, definition);
      this.codecs.set(definition.fullName, new MetadataCodec(definition.metadata, options.registry));
    }
    // A start during an outage answers UNAVAILABLE at once (the client retries); a result or progress
    // write is retried until the store is back: dropping it would lose work, and fencing makes a late
    // write of a lost attempt harmless.
    this.creates = new Batcher((items) => this.store.create(items, this.now()));
    this.progressWrites = new Batcher((items) => this.whileUnavailable(() => this.store.progress(items, this.now())));
    this.finishes = new Batcher((items) => this.whileUnavailable(() => this.writeFinishes(items)));
    // Concurrent cancellations share one statement: each its own would queue on the connection pool.
    this.cancels = new Batcher((ids) => this.store.requestCancel(ids, this.now()));
  }

  /** The methods this runtime serves, by full name (`pkg.Service.Method`). */
  get methods(): ReadonlyMap<string, MethodDefinition> {
    return this.definitions;
  }

  isFinishing(id: string): boolean {
    return this.finishing.has(id);
  }

  onFinished(listener: (finished: readonly FinishedOperation[]) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /**
   * One finish statement, announced to `onFinished` listeners once it returns (or fails): each applied
   * result as the operation now stands, each refused one (or all, if it failed) without. An operation with
   * two results in the statement (a cancel racing its worker) is announced without one: which of them won
   * is the store's to say.
   */
  private async writeFinishes(items: readonly NamedFinish[]): Promise<boolean[]> {
    const now = this.now();
    const results = new Map<string, number>();
    for (const item of items) results.set(item.id, (results.get(item.id) ?? 0) + 1);
    for (const id of results.keys()) this.finishing.add(id);
    let applied: boolean[] | undefined;
    try {
      applied = await this.store.finish(items, this.retentionMs, now);
      return applied;
    } finally {
      for (const id of results.keys()) this.finishing.delete(id);
      const finished = items.map((item, i): FinishedOperation => {
        // A finish without metadata keeps the stored one, which only a read can tell (the runtime always gives it).
        const written = applied?.[i] === true && results.get(item.id) === 1 && item.metadata !== undefined;
        const { name, metadata, error, response } = item;
        return { id: item.id, record: written ? { name, state: "done", metadata, error, response, expireTime: now + this.retentionMs } : undefined };
      });
      for (const listener of this.finishedListeners) {
        try {
          listener(finished);
        } catch (err) {
          this.log("a finished-operations listener failed", err);
        }
      }
    }
  }

  /** Runs `write`, again and again with backoff while the store answers UNAVAILABLE and we are not stopping. */
  private async whileUnavailable<T>(write: () => Promise<T>): Promise<T> {
    for (let delay = WRITE_RETRY_MS.initial; ; delay = Math.min(delay * 2, WRITE_RETRY_MS.max)) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof RpcError && err.code === Code.UNAVAILABLE) || this.stopping) throw err;
        this.log(`the store is unavailable; retrying a write in ${delay} ms`, err);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Starts listening to the store and, as a worker, claiming operations. */
  start(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.store.subscribe((event) => this.onChange(event));
    if (!this.worker) return;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.heartbeatTimer.unref();
    this.purgeTimer = setInterval(() => void this.purge(), this.purgeIntervalMs);
    this.purgeTimer.unref();
    void this.purge();
    this.wake();
  }

  private async purge(): Promise<void> {
    try {
      await this.store.purgeExpired(this.now());
    } catch (err) {
      this.log("deleting expired operations failed", err);
    }
  }

  /**
   * Stops claiming, lets running handlers finish within `graceMs`, then aborts the rest and gives their
   * leases back so another instance (or the next start) resumes them at once.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.dueTimer);
    clearInterval(this.heartbeatTimer);
    clearInterval(this.purgeTimer);
    if (this.running.size > 0) {
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([new Promise<void>((resolve) => this.onIdle.push(resolve)), grace]);
    }
    const unfinished = [...this.running.values()];
    for (const r of unfinished) {
      r.leaseLost = true; // its result, if any, must not be written after the lease is given back
      abort(r, new RpcError(Code.UNAVAILABLE, "The server is shutting down."));
    }
    if (unfinished.length > 0) {
      try {
        await this.store.release(
          this.instanceId,
          unfinished.map((r) => ({ id: r.record.id, attempt: r.record.attempt })),
          this.now(),
          this.now(),
        );
      } catch (err) {
        this.log("could not release leases at shutdown (they will expire)", err);
      }
    }
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /**
   * Creates an operation of `method` for `request` and returns its record (not done). With a request id
   * (AIP-155), a start repeated with the same id returns the operation the first start created.
   * Concurrent starts are committed together (group commit).
   */
  async startOperation(fullName: string, request: Message): Promise<OperationRecord> {
    const [operation] = this.newOperations(fullName, [request]);
    return (await this.creates.add(operation as NewOperation)).record;
  }

  /**
   * The batch API: creates one operation per request in one store write (one statement, one commit, one
   * change notification), returning their records in the order of `requests`. All are validated first;
   * one invalid request fails the call and creates nothing.
   */
  async startOperations(fullName: string, requests: readonly Message[]): Promise<OperationRecord[]> {
    const operations = this.newOperations(fullName, requests);
    if (operations.length === 0) return [];
    const results = await this.store.create(operations, this.now());
    return results.map((r) => r.record);
  }

  private newOperations(fullName: string, requests: readonly Message[]): NewOperation[] {
    const definition = this.definitions.get(fullName);
    if (!definition) throw new RpcError(Code.UNIMPLEMENTED, `Method ${fullName} is not served here.`);
    if (this.stopping) throw new RpcError(Code.UNAVAILABLE, "The server is shutting down.");
    const codec = this.codecs.get(fullName) as MetadataCodec;
    const now = this.now();
    const defaultMetadata = codec.encode(codec.initial(now));
    return requests.map((request) => {
      definition.validate?.(request);
      const given = definition.initialMetadata?.(request);
      const initialMetadata = given === undefined ? defaultMetadata : codec.encode(codec.merge(codec.initial(now), given));
      const parent = this.parentOf(definition, request);
      const id = this.idPrefixOf(definition, request) + newOperationId();
      return {
        id,
        name: this.names.format(parent, id),
        parent,
        method: fullName,
        requestId: this.requestIdOf(definition, request),
        request: toBinary(definition.request, request),
        metadata: initialMetadata,
        runAfter: now,
      };
    });
  }

  /**
   * Requests cancellation: a queued operation ends at once with CANCELLED; a running one has its
   * handler's signal fired (here or on whichever instance runs it); a done one is left as it is.
   */
  async cancel(id: string, name: string): Promise<void> {
    const record = await this.cancels.add(id);
    if (!record || record.name !== name) throw notFound(name);
    const now = this.now();
    if (record.state !== "queued") return;
    const codec = this.codecs.get(record.method);
    const metadata = codec ? codec.encode(codec.final(codec.decode(record.metadata, now), now, true)) : record.metadata;
    // Fenced on the attempt read while queued: if a worker claimed it meanwhile, this finish is refused
    // and the cancel-requested event reaches that worker instead.
    await this.finishes.add({ id, name, attempt: record.attempt, metadata, error: encodeError(cancelledStatus()) });
  }

  /**
   * Requests control command `command` (a custom method on operations, e.g. "pause"): recorded as the
   * operation's last command and delivered to its handler wherever it runs (or when it starts, if queued).
   * An operation that is done cannot be controlled: FAILED_PRECONDITION.
   */
  async control(id: string, name: string, command: string): Promise<OperationRecord> {
    const [record] = await this.store.requestControl([id], command, this.now());
    if (!record || record.name !== name) throw notFound(name);
    if (record.state === "done") {
      throw new RpcError(Code.FAILED_PRECONDITION, `Operation "${name}" is done; it cannot be sent "${command}".`, {
        reason: Reason.OPERATION_DONE,
        metadata: { name, command },
      });
    }
    return record;
  }

  /** "" for unscoped names; else the method's parent for the request, checked against the name pattern. */
  private parentOf(definition: MethodDefinition, request: Message): string {
    if (this.names.parentPattern === "" || !definition.parentOf) return "";
    return this.names.parseListName(definition.parentOf(request), "parent");
  }

  private idPrefixOf(definition: MethodDefinition, request: Message): string {
    const prefix = definition.operationIdPrefix?.(request) ?? "";
    // The whole id must still fit OPERATION_ID_PATTERN with its 22 random characters.
    if (!/^[A-Za-z0-9_-]{0,100}$/.test(prefix)) {
      throw invalidArgument("name", `cannot name an operation with prefix ${JSON.stringify(prefix.slice(0, 120))}: letters, digits, - and _ only, at most 100`);
    }
    return prefix;
  }

  private requestIdOf(definition: MethodDefinition, request: Message): string | undefined {
    const field = definition.requestIdField;
    if (!field) return undefined;
    const value = (request as unknown as Record<string, unknown>)[field.localName];
    if (typeof value !== "string" || value === "") return undefined;
    if (value.length > MAX_REQUEST_ID_LENGTH || !PRINTABLE_ASCII.test(value)) {
      throw invalidArgument(field.name, `must be at most ${MAX_REQUEST_ID_LENGTH} printable ASCII characters (a UUID is recommended)`);
    }
    return value;
  }

  private onChange(event: ChangeEvent): void {
    switch (event.kind) {
      case "created":
      case "released":
        this.wake();
        break;
      case "cancel-requested":
        for (const id of event.ids) {
          const running = this.running.get(id);
          if (running) this.cancelRunning(running);
        }
        break;
      case "control-requested": {
        // The event names the operations, not the command: read it (one statement for all of them).
        const here = event.ids.flatMap((id) => this.running.get(id) ?? []);
        if (here.length > 0) void this.heartbeat(here);
        break;
      }
      case "resync":
        // Events may have been missed: look for work, and for cancellations of what runs here.
        this.wake();
        void this.heartbeat();
        break;
      default:
        break;
    }
  }

  private cancelRunning(running: Running): void {
    if (running.cancelRequested) return;
    running.cancelRequested = true;
    abort(running, new RpcError(Code.CANCELLED, "The operation was cancelled."));
    // Let readers see cancel_requested before the handler winds down.
    running.metadata = running.codec.markCancelRequested(running.metadata);
    void this.writeProgress(running).catch(() => undefined);
  }

  /** Claims due operations up to the free capacity; re-runs while there may be more. */
  private wake(): void {
    if (!this.worker || this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    // On the next turn, not now: a wake comes from the change feed inside a write (a start's create), and
    // with a synchronous store the claim — its commit included — would run before that start's RPC is
    // answered (bench latency: SQLite start calls took the claim's time too).
    this.claiming = true;
    setImmediate(() => void this.claimLoop());
  }

  /**
   * Claims until nothing is left to claim. A wake-up that arrives while a claim is in flight only sets
   * `claimAgain`, checked after it, or it would be lost. The look-ahead for the next due operation runs
   * beside the loop rather than in it: awaited, it held the next claim back by a round trip per cycle
   * (bench e2e: 162 look-aheads per 10,200 operations, each blocking the claim after it); a wake-up
   * while it runs starts a claim (and a look-ahead of its own) at once.
   */
  private async claimLoop(): Promise<void> {
    this.claiming = true;
    try {
      for (;;) {
        this.claimAgain = false;
        const free = this.concurrency - this.handlersRunning;
        this.saturated = free <= 0;
        if (free <= 0 || this.stopping) break; // a finishing handler wakes us when saturated
        const claimed = await this.store.claim({
          owner: this.instanceId,
          methods: [...this.definitions.keys()],
          limit: free,
          leaseMs: this.leaseMs,
          now: this.now(),
          retryBackoff: this.retryBackoff,
        });
        for (const record of claimed) this.run(record);
        if (claimed.length === free || this.claimAgain) continue; // there may be more
        void this.scheduleNextDue();
        break;
      }
    } catch (err) {
      this.log("claiming operations failed; retrying", err);
      this.scheduleWake(CLAIM_RETRY_MS);
    } finally {
      this.claiming = false;
    }
  }

  /**
   * One timer for the next operation that becomes due (retry backoff, a lease of a lost worker expiring).
   * Look-aheads may overlap and answer out of order: only the latest started sets the timer, since an
   * older one, blind to what was committed after it began, could move the timer past a due operation.
   */
  private async scheduleNextDue(): Promise<void> {
    const sequence = ++this.lookAheadsStarted;
    const now = this.now();
    try {
      const due = await this.store.nextDueTime([...this.definitions.keys()], now);
      if (sequence !== this.lookAheadsStarted) return;
      if (due !== undefined) this.scheduleWake(due - now);
    } catch (err) {
      this.log("looking for the next due operation failed; retrying", err);
      this.scheduleWake(CLAIM_RETRY_MS);
    }
  }

  private scheduleWake(delayMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => this.wake(), Math.max(0, Math.min(delayMs, 2 ** 31 - 1)));
    this.dueTimer.unref();
  }

  private run(record: OperationRecord): void {
    const definition = this.definitions.get(record.method);
    const codec = this.codecs.get(record.method);
    if (!definition || !codec) return; // claim only returns our methods
    const now = this.now();
    const running: Running = {
      record,
      definition,
      codec,
      controller: undefined,
      metadata: codec.decode(record.metadata, now),
      cancelRequested: record.cancelRequested,
      control: new ControlChannel(record.control, () => signalOf(running)),
      leaseLost: false,
      deleted: false,
      slotFreed: false,
      pendingProgress: undefined,
    };
    this.running.set(record.id, running);
    this.handlersRunning++;
    void this.runToEnd(running);
  }

  /**
   * Runs the handler and writes its result; never rejects. One async function, not a chain of them or of
   * .then handlers: each link would be one more promise kept alive per running operation (bench wait:
   * 10,000 pending).
   */
  private async runToEnd(running: Running): Promise<void> {
    try {
      const outcome = await this.outcomeOf(running);
      this.freeSlot(running);
      // Lease lost: another worker owns it now and its result wins. Deleted: nobody wants the result.
      if (!running.leaseLost && !running.deleted) await this.finish(running, outcome);
    } catch (err) {
      this.log(`finishing ${running.record.name} failed`, err);
    } finally {
      this.freeSlot(running);
      this.running.delete(running.record.id);
      if (this.running.size === 0) for (const resolve of this.onIdle.splice(0)) resolve();
    }
  }

  /**
   * A handler that returned gives its slot to the next operation at once: its result's write (batched,
   * and retried through store outages) need not hold a slot, so claiming the next batch overlaps with
   * committing this one's results. The operation stays in `running` (heartbeats, shutdown) until written.
   */
  private freeSlot(running: Running): void {
    if (running.slotFreed) return;
    running.slotFreed = true;
    this.handlersRunning--;
    if (this.saturated) this.wake();
  }

  /** What the operation ends with: its handler's result, or why it could not run. */
  private async outcomeOf(running: Running): Promise<{ response: Message } | { error: Status }> {
    const { record, definition } = running;
    const interrupted = this.interruptedOutcome(running);
    if (interrupted) return { error: interrupted };
    let request: Message;
    try {
      request = fromBinary(definition.request, record.request);
    } catch {
      return { error: statusOf(Code.DATA_LOSS, "The stored request could not be decoded.") };
    }
    try {
      const result = await definition.handler(request, this.contextFor(running));
      return { response: create(definition.response, result as never) as Message };
    } catch (err) {
      return { error: this.errorOutcome(running, err) };
    }
  }

  /** The status an operation ends with before running, when its previous attempts were interrupted. */
  private interruptedOutcome(running: Running): Status | undefined {
    const { record, definition } = running;
    if (record.cancelRequested) return cancelledStatus();
    if (record.attempt <= 1) return undefined;
    if (!definition.retryable) {
      return statusOf(
        Code.ABORTED,
        `The operation was interrupted (its worker stopped or lost its lease) and ${definition.fullName} is not retryable.`,
      );
    }
    if (record.attempt > definition.maxAttempts) {
      return statusOf(
        Code.ABORTED,
        `The operation was interrupted ${record.attempt - 1} times (its worker stopped or lost its lease); gave up after ${definition.maxAttempts} attempts.`,
      );
    }
    return undefined;
  }

  private errorOutcome(running: Running, err: unknown): Status {
    // A handler that stops because of cancellation (throwing the signal's reason or anything else)
    // ends CANCELLED; an RpcError it throws on purpose with another code keeps that code.
    if (running.cancelRequested && !(err instanceof RpcError && err.code !== Code.CANCELLED)) {
      return cancelledStatus();
    }
    return this.servable(running, toRpcError(err).toOperationStatus());
  }

  /**
   * The status as it can be served to every client: a code from 1 to 16 (else UNKNOWN), and only the
   * details whose type this server knows and whose bytes decode — an Any of an unknown type cannot be
   * written as JSON, and one such operation would break REST Get and List for everyone. What is dropped
   * is logged, so the handler's author sees it.
   */
  private servable(running: Running, status: Status): Status {
    const details = status.details.filter((detail) => {
      const schema = this.registry.getMessage(detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1));
      if (!schema) return false;
      try {
        fromBinary(schema, detail.value);
        return true;
      } catch {
        return false;
      }
    });
    const code = isErrorCode(status.code) ? status.code : Code.UNKNOWN;
    if (details.length === status.details.length && code === status.code) return status;
    this.log(
      `${running.record.name}: the handler's error had code ${status.code} and ${status.details.length - details.length} detail(s) ` +
        "of types not in the registry or not decodable; kept the rest",
    );
    return create(StatusSchema, { code, message: status.message, details });
  }

  private contextFor(running: Running): OperationContext {
    const runtime = this;
    return {
      name: running.record.name,
      attempt: running.record.attempt,
      get signal() {
        return signalOf(running);
      },
      control: running.control,
      get metadata() {
        return running.metadata;
      },
      async progress(partial: object): Promise<void> {
        running.metadata = running.codec.merge(running.metadata, partial);
        if (running.deleted) return;
        const applied = await runtime.writeProgress(running);
        if (!applied && !running.deleted) throw new RpcError(Code.ABORTED, "The operation is no longer run by this worker.");
      },
    } as OperationContext;
  }

  private writeProgress(running: Running): Promise<boolean> {
    const metadata = running.codec.encode(running.metadata);
    const pending = running.pendingProgress;
    if (pending) {
      pending.update.metadata = metadata;
      return pending.done;
    }
    const update: ProgressUpdate = { id: running.record.id, attempt: running.record.attempt, metadata };
    const done = this.progressWrites.add(update).then(async (applied) => {
      if (!applied) await this.writeRefused(running);
      return applied;
    });
    running.pendingProgress = { update, done };
    // The batcher reads `update` when it flushes; from then on a new call must queue a new write.
    void done.finally(() => {
      if (running.pendingProgress?.update === update) running.pendingProgress = undefined;
    });
    return done;
  }

  private async finish(running: Running, outcome: { response: Message } | { error: Status }): Promise<void> {
    const { record, definition, codec } = running;
    const now = this.now();
    const metadata = codec.encode(codec.final(running.metadata, now, running.cancelRequested));
    const request: NamedFinish =
      "response" in outcome
        ? { id: record.id, name: record.name, attempt: record.attempt, metadata, response: packStored(definition.response.typeName, toBinary(definition.response, outcome.response)) }
        : { id: record.id, name: record.name, attempt: record.attempt, metadata, error: encodeError(outcome.error) };
    await this.finishes.add(request);
  }

  /**
   * A fenced write or heartbeat was refused: either the operation was deleted (the handler carries on,
   * unheard) or another worker took it over (the handler is aborted). One read tells which; it is rare.
   */
  private async writeRefused(running: Running): Promise<void> {
    if (running.leaseLost || running.deleted) return;
    const current = await this.store.get(running.record.id, this.now());
    if (current === undefined) running.deleted = true;
    else this.loseLease(running);
  }

  private loseLease(running: Running): void {
    if (running.leaseLost) return;
    running.leaseLost = true;
    abort(running, new RpcError(Code.ABORTED, "The operation is no longer run by this worker."));
  }

  /**
   * Extends the leases of what runs here (or of `only`), and applies what the store says was requested
   * meanwhile: cancellation and control commands (the fallback for missed change events).
   */
  private async heartbeat(only?: readonly Running[]): Promise<void> {
    const of = only ?? [...this.running.values()];
    if (of.length === 0) return;
    try {
      for (let start = 0; start < of.length; start += HEARTBEAT_CHUNK) {
        if (start > 0) await new Promise((resolve) => setImmediate(resolve));
        await this.heartbeatChunk(of.slice(start, start + HEARTBEAT_CHUNK));
      }
    } catch (err) {
      this.log("heartbeat failed", err);
    }
  }

  private async heartbeatChunk(of: readonly Running[]): Promise<void> {
    const leases = of.map((r) => ({ id: r.record.id, attempt: r.record.attempt }));
    const results = await this.store.heartbeat(this.instanceId, leases, this.leaseMs, this.now());
    for (const result of results) {
      const running = this.running.get(result.id);
      if (!running) continue;
      if (!result.held) {
        await this.writeRefused(running);
        continue;
      }
      running.control.set(result.control);
      if (result.cancelRequested) this.cancelRunning(running);
    }
  }
}

/**
 * The signal of a running operation's handler, made on first use: an AbortController per operation (and
 * its DOMException-building signal) was about 2% of a worker's CPU in the drain benchmark, for handlers
 * that mostly never look at it.
 */
function signalOf(running: Running): AbortSignal {
  return (running.controller ??= new AbortController()).signal;
}

function abort(running: Running, reason: unknown): void {
  (running.controller ??= new AbortController()).abort(reason);
}

function statusOf(code: Code, message: string): Status {
  return create(StatusSchema, { code, message });
}

function cancelledStatus(): Status {
  return statusOf(Code.CANCELLED, "The operation was cancelled.");
}

function encodeError(status: Status): StoredError {
  return { code: status.code, message: status.message, status: toBinary(StatusSchema, status) };
}

function packStored(typeName: string, value: Uint8Array): StoredAny {
  return { typeUrl: TYPE_URL_PREFIX + typeName, value };
}
