import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Message, Registry } from "@bufbuild/protobuf";
import { DEFAULTS } from "../core/defaults.js";
import { consoleLogger, type Logger } from "../core/logger.js";
import { OperationNames } from "../core/names.js";
import type { EventRecord, OperationRecord, Store } from "../store/store.js";
import { Claimer } from "./claimer.js";
import { clockOf, type Clock } from "./clock.js";
import { OperationCommands } from "./commands.js";
import { dispatchChange, type WorkerParts } from "./dispatch.js";
import { Executor } from "./executor.js";
import { Leases } from "./leases.js";
import type { MethodDeclaration, MethodDefinition } from "./methods.js";
import { Purger } from "./purger.js";
import { Reaper } from "./reaper.js";
import { MethodRegistry } from "./registry.js";
import { claimLimits } from "./scheduling.js";
import { Starter, type StartOptions } from "./starter.js";
import { ResultWriter, type FinishedOperation, type LocalFinishes } from "./writer.js";
import type { NotificationRoute } from "./notifications.js";
import { NO_METRICS, type RuntimeMetrics } from "./metrics.js";

export type { FinishedOperation, LocalFinishes } from "./writer.js";
export type { StartOptions } from "./starter.js";
export type { RuntimeMetrics } from "./metrics.js";
import type { RuntimeTracing } from "./tracing.js";
export type { ExecutionSpan, RuntimeTracing } from "./tracing.js";

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
  /** Largest response an operation may hold, encoded: a larger one fails it RESOURCE_EXHAUSTED. @default 1 MiB */
  maxResponseBytes?: number;
  /** Largest metadata an operation may hold, encoded: a ctx.progress making it larger is refused RESOURCE_EXHAUSTED. @default 256 KiB */
  maxMetadataBytes?: number;
  /** Largest error (encoded google.rpc.Status) an operation may hold: a larger one is stored truncated. @default 64 KiB */
  maxErrorBytes?: number;
  /**
   * Completion notifications: where each finish is announced. Its events are written to the store's outbox
   * with the finish (a dispatcher, src/notify/, delivers them). @default none
   */
  notifications?: readonly NotificationRoute[];
  /**
   * This instance's dispatcher of those notifications: the events of the finishes written here are handed
   * to it at once, leased (no claim statement to send them). @default none: they wait to be claimed
   */
  notificationHandOff?: { leaseMs: number; deliver(events: readonly EventRecord[]): void } | undefined;
  /** Identifies this instance in leases. @default `${hostname}:${pid}:${random}` */
  instanceId?: string;
  /** Where unexpected errors (store failures in the background) are reported. @default standard error */
  log?: Logger;
  /** Where claims, handler times, results and lost leases are counted (src/observability/). @default none */
  metrics?: RuntimeMetrics;
  /** Where handler runs are traced, in the trace of their start (src/observability/). @default none */
  tracing?: RuntimeTracing | undefined;
  /** The time, and the timers of the background parts: a `Clock`, or just a `now` function. @default the system's */
  clock?: Clock | (() => number);
}

/**
 * Runs long-running methods: creates operations when they are started, and (as a worker) claims them from
 * the store, runs their handlers, writes progress and results — all batched, and woken by the store's
 * change feed rather than by polling. A facade: each job is one part (see docs/architecture.md).
 */
export class Runtime implements LocalFinishes {
  readonly names: OperationNames;
  readonly instanceId: string;
  private readonly store: Store;
  private readonly methodRegistry: MethodRegistry;
  private readonly writer: ResultWriter;
  private readonly starter: Starter;
  private readonly commands: OperationCommands;
  /** The parts that run handlers; undefined when this process only starts operations. */
  private readonly worker: (WorkerParts & { purger: Purger; reaper: Reaper }) | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopping = false;

  constructor(options: RuntimeOptions) {
    const { store } = options;
    const clock = clockOf(options.clock);
    const log = options.log ?? consoleLogger;
    const metrics = options.metrics ?? NO_METRICS;
    const isStopping = () => this.stopping;
    this.store = store;
    this.names = options.names ?? new OperationNames();
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.methodRegistry = new MethodRegistry(options.methods, options.registry, this.names);
    const retentionMs = options.retentionMs ?? DEFAULTS.retentionMs.value;
    this.writer = new ResultWriter({
      store, clock, log, retentionMs, isStopping, notifications: options.notifications, metrics, owner: this.instanceId, handOff: options.notificationHandOff,
    });
    this.starter = new Starter({ store, clock, methods: this.methodRegistry, names: this.names, isStopping });
    this.commands = new OperationCommands({ store, clock, methods: this.methodRegistry, writer: this.writer });
    if (options.worker === false) return;
    const leaseMs = options.leaseMs ?? DEFAULTS.leaseMs.value;
    const owner = this.instanceId;
    const executor: Executor = new Executor({
      methods: this.methodRegistry,
      registry: options.registry,
      writer: this.writer,
      store,
      clock,
      log,
      concurrency: options.concurrency ?? DEFAULTS.concurrency.value,
      onSlotFreed: () => claimer.slotFreed(),
      metrics,
      tracing: options.tracing,
      limits: {
        maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes.value,
        maxMetadataBytes: options.maxMetadataBytes ?? DEFAULTS.maxMetadataBytes.value,
        maxErrorBytes: options.maxErrorBytes ?? DEFAULTS.maxErrorBytes.value,
      },
    });
    const claimer: Claimer = new Claimer({
      store,
      clock,
      log,
      owner,
      methods: this.methodRegistry.fullNames,
      limits: claimLimits(this.methodRegistry.definitions.values()),
      leaseMs,
      retryBackoff: options.retryBackoff ?? DEFAULTS.retryBackoff.value,
      freeSlots: () => executor.freeSlots,
      metrics,
      run: (records) => executor.run(records, this.writer.announceStarts(records)),
    });
    const leases = new Leases({ store, clock, log, owner, leaseMs, executor });
    const purger = new Purger({ store, clock, log, intervalMs: options.purgeIntervalMs ?? DEFAULTS.purgeIntervalMs.value });
    const reaper = new Reaper({ store, clock, log });
    this.worker = { claimer, executor, leases, purger, reaper };
  }

  /** The methods this runtime serves, by full name (`pkg.Service.Method`). */
  get methods(): ReadonlyMap<string, MethodDefinition> {
    return this.methodRegistry.definitions;
  }

  isFinishing(id: string): boolean {
    return this.writer.isFinishing(id);
  }

  onFinished(listener: (finished: readonly FinishedOperation[]) => void): () => void {
    return this.writer.onFinished(listener);
  }

  /** Starts listening to the store and, as a worker, claiming operations. */
  start(): void {
    if (this.unsubscribe) return;
    const worker = this.worker;
    this.unsubscribe = this.store.subscribe((event) => {
      // Also while stopping: a cancellation must still reach the handlers finishing in the grace period.
      if (worker) dispatchChange(event, worker);
    });
    if (!worker) return;
    worker.leases.start();
    worker.purger.start();
    worker.reaper.start();
    worker.claimer.wake();
  }

  /**
   * Stops claiming, lets running handlers finish within `graceMs`, then aborts the rest and gives their
   * leases back so another instance (or the next start) resumes them at once.
   */
  async stop(graceMs = DEFAULTS.shutdownGraceMs.value): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (worker) {
      worker.claimer.stop();
      worker.leases.stop();
      worker.purger.stop();
      worker.reaper.stop();
      await worker.executor.whenIdle(graceMs);
      await worker.leases.releaseAll();
    }
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** See `Starter.startOperation`: one operation, committed with concurrent starts (group commit). */
  startOperation(fullName: string, request: Message, options?: StartOptions): Promise<OperationRecord> {
    return this.starter.startOperation(fullName, request, options);
  }

  /** See `Starter.startOperations`: one store write for all of `requests`, or none if one is invalid. */
  startOperations(fullName: string, requests: readonly Message[], options?: StartOptions): Promise<OperationRecord[]> {
    return this.starter.startOperations(fullName, requests, options);
  }

  /** See `OperationCommands.cancel`. */
  cancel(id: string, name: string): Promise<void> {
    return this.commands.cancel(id, name);
  }

  /** See `OperationCommands.control`. */
  control(id: string, name: string, command: string): Promise<OperationRecord> {
    return this.commands.control(id, name, command);
  }
}
