import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { codeName } from "../core/code.js";
import { DEFAULTS } from "../core/defaults.js";
import type { Logger } from "../core/logger.js";
import type { RuntimeMetrics } from "../runtime/metrics.js";
import type { WaitMetrics } from "../service/waiters.js";
import type { Store, StoreCounts } from "../store/store.js";
import { CounterSeriesSet, HistogramSeriesSet, type CounterSeries, type HistogramSeries } from "./series.js";


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
  /**
   * The series the hot paths count in (series.ts: plain numbers, added to the metrics above on scrape):
   * each looked up once per method (and transport, code, kind) rather than labelled at every call.
   */
  readonly startedSeries: CounterSeriesSet<"method">;
  readonly finishedSeries: CounterSeriesSet<"method" | "code">;
  readonly rpcRequestSeries: CounterSeriesSet<"method" | "transport" | "code">;
  readonly rpcDurationSeries: HistogramSeriesSet<"method" | "transport">;
  readonly writeBatchSeries: HistogramSeriesSet<"kind">;
  private readonly handlerSeries: HistogramSeriesSet<"method">;
  private readonly claimSeries: HistogramSeriesSet<"method">;
  private readonly byMethod = new Map<string, MethodSeries>();
  private readonly wakeSeries: HistogramSeries;
  private readonly now: () => number;
  /** The queue (queued and running) and the outbox, every `countsCacheMs`: they cost what they hold. */
  private readonly unfinished: CachedRead<StoreCounts>;
  /** The done operations, 12 times less often (a minute by default): counting them walks every row the store retains (0.3 µs a row on SQLite). */
  private readonly retained: CachedRead<StoreCounts>;

  constructor(private readonly options: MetricsOptions) {
    const registers = [this.registry];
    const cacheMs = options.countsCacheMs ?? DEFAULTS.metricsCacheMs.value;
    this.now = options.now ?? Date.now;
    this.unfinished = new CachedRead(cacheMs, (now) => options.store.counts(now, { done: false }));
    this.retained = new CachedRead(cacheMs * DONE_COUNTS_EVERY, (now) => options.store.counts(now));
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    const counter = <T extends string>(name: string, help: string, labelNames: readonly T[], series?: () => { flush(): void }) =>
      new Counter<T>({ name, help, labelNames, registers, ...(series ? { collect: () => series().flush() } : {}) });
    const histogram = <T extends string>(name: string, help: string, labelNames: readonly T[], buckets: number[], series?: () => { flush(): void }) =>
      new Histogram<T>({ name, help, labelNames, buckets, registers, ...(series ? { collect: () => series().flush() } : {}) });
    this.operationsStarted = counter("longrun_operations_started_total", "Operations created by a start (a repeated request id creates none).", ["method"], () => this.startedSeries);
    this.operationsFinished = counter("longrun_operations_finished_total", "Operation results written, by google.rpc.Code name (OK for a response).", ["method", "code"], () => this.finishedSeries);
    this.handlerDuration = histogram("longrun_handler_duration_seconds", "How long handlers ran, returned or thrown.", ["method"], SECONDS_SLOW, () => this.handlerSeries);
    this.claimLatency = histogram("longrun_claim_latency_seconds", "From an operation's creation to its first claim by a worker.", ["method"], SECONDS_FAST, () => this.claimSeries);
    this.leasesLost = counter("longrun_lease_lost_total", "Running attempts that lost their lease to another worker.", []);
    this.fencedWrites = counter("longrun_fenced_writes_total", "Progress and finish writes refused by the fence (the attempt no longer held the operation).", ["kind"]);
    this.writeBatchSize = histogram("longrun_store_write_batch_size", "Items per store write statement, by kind of write.", ["kind"], BATCH_SIZES, () => this.writeBatchSeries);
    this.storeErrors = counter("longrun_store_errors_total", "Store calls that failed, by Store method.", ["op"]);
    this.rpcRequests = counter("longrun_rpc_requests_total", "RPCs answered, by full method name, transport and google.rpc.Code name.", ["method", "transport", "code"], () => this.rpcRequestSeries);
    this.rpcDuration = histogram("longrun_rpc_duration_seconds", "How long RPCs took to answer (WaitOperation: its wait included).", ["method", "transport"], SECONDS_FAST, () => this.rpcDurationSeries);
    this.waitWakeLatency = histogram("longrun_wait_wake_latency_seconds", "From an operation's end (its store finish time) to the answer of a WaitOperation it woke.", [], SECONDS_WAKE, () => wakeSeries);
    this.startedSeries = new CounterSeriesSet(() => this.operationsStarted);
    this.finishedSeries = new CounterSeriesSet(() => this.operationsFinished);
    this.rpcRequestSeries = new CounterSeriesSet(() => this.rpcRequests);
    this.rpcDurationSeries = new HistogramSeriesSet(() => this.rpcDuration, SECONDS_FAST);
    this.writeBatchSeries = new HistogramSeriesSet(() => this.writeBatchSize, BATCH_SIZES);
    this.handlerSeries = new HistogramSeriesSet(() => this.handlerDuration, SECONDS_SLOW);
    this.claimSeries = new HistogramSeriesSet(() => this.claimLatency, SECONDS_FAST);
    const wakeSeries = new HistogramSeriesSet(() => this.waitWakeLatency, SECONDS_WAKE);
    this.wakeSeries = wakeSeries.series({});
    this.notifications = counter("longrun_notifications_total", "Completion notification delivery attempts, by destination and outcome.", ["destination", "outcome"]);
    const metrics = this;
    new Gauge({
      name: "longrun_operations",
      help: "Operations in the store by method and state (expired ones left out); read on scrape, cached (done ones 12 times longer).",
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
    const series = this.seriesOf(method);
    (series.claim ??= this.claimSeries.series(series.labels)).observe(seconds);
  }

  handled(method: string, seconds: number): void {
    const series = this.seriesOf(method);
    (series.handler ??= this.handlerSeries.series(series.labels)).observe(seconds);
  }

  finished(method: string, code: number): void {
    const series = this.seriesOf(method);
    (series.finished[code] ??= this.finishedSeries.series({ method, code: codeName(code) })).inc();
  }

  /** An operation of `method` was created by a start. */
  started(method: string): void {
    const series = this.seriesOf(method);
    (series.started ??= this.startedSeries.series(series.labels)).inc();
  }

  leaseLost(): void {
    this.leasesLost.inc();
  }

  waitWoken(seconds: number): void {
    this.wakeSeries.observe(seconds);
  }

  /** One notification delivery attempt's outcome (the dispatcher's). */
  notification(destination: string, outcome: "delivered" | "retried" | "failed"): void {
    this.notifications.inc({ destination, outcome });
  }

  /** The exposition text of every metric, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private seriesOf(method: string): MethodSeries {
    let series = this.byMethod.get(method);
    if (series === undefined) this.byMethod.set(method, (series = { labels: { method }, finished: [] }));
    return series;
  }

  /** The store's counts: the queue's and the outbox's fresh, the done ones up to 12 periods old; undefined while the store fails. */
  private async counts(): Promise<StoreCounts | undefined> {
    const now = this.now();
    try {
      const [unfinished, retained] = await Promise.all([this.unfinished.get(now), this.retained.get(now)]);
      return { operations: [...unfinished.operations, ...retained.operations.filter((o) => o.state === "done")], events: unfinished.events };
    } catch (err) {
      this.options.log("metrics: counting operations failed", err);
      return undefined;
    }
  }
}

/** The done operations are counted once per this many periods of the unfinished ones. */
const DONE_COUNTS_EVERY = 12;

/** A read made at most once per period, its answer shared meanwhile; a failed one is made again at the next ask. */
class CachedRead<T> {
  #last: { at: number; value: Promise<T> } | undefined;

  constructor(
    private readonly periodMs: number,
    private readonly read: (now: number) => Promise<T>,
  ) {}

  get(now: number): Promise<T> {
    if (this.#last === undefined || now - this.#last.at >= this.periodMs) {
      const last = { at: now, value: this.read(now) };
      last.value.catch(() => {
        if (this.#last === last) this.#last = undefined;
      });
      this.#last = last;
    }
    return this.#last.value;
  }
}

/**
 * One method's series, each made at its first count (a series shows from then on, as with prom-client's
 * own `inc` and `observe`); `finished` by google.rpc.Code.
 */
interface MethodSeries {
  readonly labels: { method: string };
  claim?: HistogramSeries;
  handler?: HistogramSeries;
  started?: CounterSeries;
  readonly finished: CounterSeries[];
}
