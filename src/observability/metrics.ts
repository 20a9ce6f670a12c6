import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { codeName } from "../core/code.js";
import { DEFAULTS } from "../core/defaults.js";
import type { Logger } from "../core/logger.js";
import type { RuntimeMetrics } from "../runtime/metrics.js";
import type { WaitMetrics } from "../service/waiters.js";
import type { Store, StoreCounts } from "../store/store.js";


const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const SECONDS_SLOW = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** A wake is the change feed and a promise away: tenths of a millisecond in process, more across a network. */
const SECONDS_WAKE = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const OPERATION_STATES = ["queued", "running", "done"] as const;
const EVENT_STATES = ["pending", "failed"] as const;

export interface MetricsOptions {
  /** The store whose operations and outbox events are counted on scrape (by `counts`, cached). */
  store: Store;
  /** The methods served: their gauges read 0 rather than vanish when none are in a state. */
  methods: () => Iterable<string>;
  /** WaitOperation calls waiting now, read on scrape. */
  waiters?: () => number;
  /** Node.js process metrics (CPU, memory, event loop lag, GC) beside longrun's own. @default true */
  processMetrics?: boolean;
  /** How long store counts are reused between scrapes: they never cost more than one aggregate per this. @default DEFAULTS.metricsCacheMs (5 s) */
  countsCacheMs?: number;
  now?: () => number;
  log: Logger;
}


/**
 * longrun's Prometheus metrics (docs/observability.md), in a registry of their own (never prom-client's
 * global one): counters and histograms moved by the runtime, the store wrapper, the endpoint wrapper and
 * the dispatcher as things happen; gauges read on scrape. No label is unbounded: methods are the served
 * RPCs, codes the 17 google.rpc.Code names, destinations the configured ones.
 */
export class Metrics implements RuntimeMetrics, WaitMetrics {
  readonly registry = new Registry();
  readonly operationsStarted: Counter<"method">;
  readonly operationsFinished: Counter<"method" | "code">;
  readonly handlerDuration: Histogram<"method">;
  readonly claimLatency: Histogram<"method">;
  readonly leasesLost: Counter;
  readonly fencedWrites: Counter<"kind">;
  readonly writeBatchSize: Histogram<"kind">;
  readonly storeErrors: Counter<"op">;
  readonly rpcRequests: Counter<"method" | "transport" | "code">;
  readonly rpcDuration: Histogram<"method" | "transport">;
  readonly notifications: Counter<"destination" | "outcome">;
  readonly waitWakeLatency: Histogram;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private cached: { at: number; counts: Promise<StoreCounts> } | undefined;

  constructor(private readonly options: MetricsOptions) {
    const registers = [this.registry];
    this.cacheMs = options.countsCacheMs ?? DEFAULTS.metricsCacheMs.value;
    this.now = options.now ?? Date.now;
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new Counter<T>({ name, help, labelNames, registers });
    const histogram = <T extends string>(name: string, help: string, labelNames: readonly T[], buckets: number[]) =>
      new Histogram<T>({ name, help, labelNames, buckets, registers });
    this.operationsStarted = counter("longrun_operations_started_total", "Operations created by a start (a repeated request id creates none).", ["method"]);
    this.operationsFinished = counter("longrun_operations_finished_total", "Operation results written, by google.rpc.Code name (OK for a response).", ["method", "code"]);
    this.handlerDuration = histogram("longrun_handler_duration_seconds", "How long handlers ran, returned or thrown.", ["method"], SECONDS_SLOW);
    this.claimLatency = histogram("longrun_claim_latency_seconds", "From an operation's creation to its first claim by a worker.", ["method"], SECONDS_FAST);
    this.leasesLost = counter("longrun_lease_lost_total", "Running attempts that lost their lease to another worker.", []);
    this.fencedWrites = counter("longrun_fenced_writes_total", "Progress and finish writes refused by the fence (the attempt no longer held the operation).", ["kind"]);
    this.writeBatchSize = histogram("longrun_store_write_batch_size", "Items per store write statement, by kind of write.", ["kind"], BATCH_SIZES);
    this.storeErrors = counter("longrun_store_errors_total", "Store calls that failed, by Store method.", ["op"]);
    this.rpcRequests = counter("longrun_rpc_requests_total", "RPCs answered, by full method name, transport and google.rpc.Code name.", ["method", "transport", "code"]);
    this.rpcDuration = histogram("longrun_rpc_duration_seconds", "How long RPCs took to answer (WaitOperation: its wait included).", ["method", "transport"], SECONDS_FAST);
    this.waitWakeLatency = histogram("longrun_wait_wake_latency_seconds", "From an operation's end (its store finish time) to the answer of a WaitOperation it woke.", [], SECONDS_WAKE);
    this.notifications = counter("longrun_notifications_total", "Completion notification delivery attempts, by destination and outcome.", ["destination", "outcome"]);
    const metrics = this;
    new Gauge({
      name: "longrun_operations",
      help: "Operations in the store by method and state (expired ones left out); read on scrape, cached.",
      labelNames: ["method", "state"],
      registers,
      async collect() {
        const counts = await metrics.counts();
        if (counts === undefined) return;
        this.reset();
        for (const method of options.methods()) for (const state of OPERATION_STATES) this.set({ method, state }, 0);
        for (const { method, state, count } of counts.operations) this.set({ method, state }, count);
      },
    });
    new Gauge({
      name: "longrun_notifications_outbox_events",
      help: "Completion notification events in the outbox by state; read on scrape, cached.",
      labelNames: ["state"],
      registers,
      async collect() {
        const counts = await metrics.counts();
        if (counts === undefined) return;
        for (const state of EVENT_STATES) this.set({ state }, counts.events.find((e) => e.state === state)?.count ?? 0);
      },
    });
    new Gauge({
      name: "longrun_wait_waiters",
      help: "WaitOperation calls (and in-process result() awaits) waiting now.",
      registers,
      collect() {
        this.set(options.waiters?.() ?? 0);
      },
    });
  }

  claimed(method: string, seconds: number): void {
    this.claimLatency.observe({ method }, seconds);
  }

  handled(method: string, seconds: number): void {
    this.handlerDuration.observe({ method }, seconds);
  }

  finished(method: string, code: number): void {
    this.operationsFinished.inc({ method, code: codeName(code) });
  }

  leaseLost(): void {
    this.leasesLost.inc();
  }

  waitWoken(seconds: number): void {
    this.waitWakeLatency.observe(seconds);
  }

  /** One notification delivery attempt's outcome (the dispatcher's). */
  notification(destination: string, outcome: "delivered" | "retried" | "failed"): void {
    this.notifications.inc({ destination, outcome });
  }

  /** The exposition text of every metric, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** The store's counts, read at most once per cache period; undefined while the store fails. */
  private async counts(): Promise<StoreCounts | undefined> {
    const now = this.now();
    if (this.cached === undefined || now - this.cached.at >= this.cacheMs) {
      this.cached = { at: now, counts: this.options.store.counts(now) };
    }
    const cached = this.cached;
    try {
      return await cached.counts;
    } catch (err) {
      if (this.cached === cached) this.cached = undefined;
      this.options.log("metrics: counting operations failed", err);
      return undefined;
    }
  }
}

