import type { Registry } from "@bufbuild/protobuf";
import { operationJson } from "../core/any-json.js";
import { DEFAULTS } from "../core/defaults.js";
import type { LogFields, Logger } from "../core/logger.js";
import type { Clock, Timer } from "../runtime/clock.js";
import { toOperation } from "../service/operation.js";
import type { EventRecord, EventSettlement, Store } from "../store/store.js";
import type { DeliveryOutcome, Notification, Sink } from "./sink.js";

export interface DispatcherOptions {
  store: Store;
  /** The sinks of this instance, by destination key: it delivers the events for these destinations. */
  sinks: ReadonlyMap<string, Sink>;
  /** Resolves the Anys of the operations it renders as JSON. */
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** Who holds the leases of the events being delivered here (the runtime's instance id). */
  owner: string;
  /** Events claimed at once. @default 64 */
  batchSize?: number;
  /** Claimed batches being delivered at once. @default 4 */
  batchesInFlight?: number;
  /** Events handed over by finishes in delivery at once; more are given back to be claimed. @default 16 × batchSize */
  maxHandedInFlight?: number;
  /** How long a claimed event is this instance's; after that another may deliver it (at least once). @default 60 s */
  leaseMs?: number;
  /** How long an event is retried before it is kept as failed. @default 24 h */
  retryForMs?: number;
  /** Backoff between attempts: initialMs × 2^(attempt − 1), at most maxMs, with jitter. @default 1 s to 10 min */
  backoff?: { initialMs: number; maxMs: number };
  /** Draws jitter in [0, 1). @default Math.random */
  random?: () => number;
  /** Told each delivery attempt's outcome, by destination (metrics). @default none */
  onOutcome?: (destination: string, outcome: keyof DispatcherStats) => void;
}

/** What the dispatcher has done since it started, for logs and metrics. */
export interface DispatcherStats {
  delivered: number;
  retried: number;
  failed: number;
}

const STORE_RETRY_MS = { initial: 200, max: 10_000 };

/**
 * Delivers the outbox: claims due events in batches (leased, so several instances share the work and a
 * dead one's events are taken over), hands each destination's to its sink, and records the outcomes in
 * one statement. Woken by the store's change feed when a finish writes events or an operator retries
 * some, and by a timer for the next retry that falls due: it never polls. One claim loop keeps up to
 * `batchesInFlight` batches in delivery: a wake costs one claim, and a partial batch means nothing more is
 * due (the next finish wakes it again). Delivery is at least once.
 */
export class Dispatcher {
  readonly stats: DispatcherStats = { delivered: 0, retried: 0, failed: 0 };
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly retryForMs: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly random: () => number;
  private readonly destinations: string[];
  private readonly abort = new AbortController();
  private readonly batchesInFlight: number;
  private running: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  /** Set by a wake-up; the loop about to wait claims again instead. */
  private dirty = true;
  private waiting = new Set<() => void>();
  /** The earliest later time an event is known to fall due (a retry scheduled here, or what the store said). */
  private nextDue: number | undefined;
  /** Ask the store when the next event falls due before the next wait (at start, and after a timer fired). */
  private dueUnknown = true;
  /** Events handed over by finishes (deliverNow) and in delivery now, and how many may be. */
  private handedInFlight = 0;
  private readonly maxHanded: number;

  constructor(private readonly options: DispatcherOptions) {
    this.batchSize = options.batchSize ?? 64;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.retryForMs = options.retryForMs ?? DEFAULTS.notifyRetryForMs.value;
    this.backoff = options.backoff ?? { initialMs: 1000, maxMs: 10 * 60_000 };
    this.random = options.random ?? Math.random;
    this.destinations = [...options.sinks.keys()];
    this.batchesInFlight = options.batchesInFlight ?? 4;
    this.maxHanded = options.maxHandedInFlight ?? 16 * this.batchSize;
  }

  start(): void {
    if (this.running !== undefined || this.destinations.length === 0) return;
    this.unsubscribe = this.options.store.subscribe((event) => {
      // Not "done": a finish's events are handed over by the instance that wrote them (deliverNow), or
      // announced as "events" when written unclaimed.
      if (event.kind === "events" || event.kind === "resync") this.wake();
    });
    this.running = this.loop();
  }

  /**
   * Delivers events this instance wrote already leased to itself (a finish's, ResultWriter's hand-off):
   * no claim statement on their way out. Stopped, it leaves them: their leases run out and they are
   * claimed again (here after a restart, or by another instance).
   */
  deliverNow(events: readonly EventRecord[]): void {
    if (this.stopped || this.running === undefined) return;
    // A receiver slower than the finishes: what is handed over beyond a bound of events in delivery is
    // given back, due now, for the claim loop to take as deliveries end (memory stays bounded).
    if (this.handedInFlight + events.length > this.maxHanded) {
      const now = this.options.clock.now();
      void this.settle(events.map((e) => ({ id: e.id, attempt: e.attempt, outcome: "retry", runAfter: now, error: "not sent yet: the dispatcher was busy" }))).then(() => this.wake());
      return;
    }
    this.handedInFlight += events.length;
    const delivery: Promise<void> = this.deliver(events).finally(() => {
      this.handedInFlight -= events.length;
      this.inFlight.delete(delivery);
    });
    this.inFlight.add(delivery);
  }

  /** Stops claiming; deliveries in flight are aborted and their events made due again at once. */
  async close(): Promise<void> {
    this.abort.abort();
    this.unsubscribe?.();
    this.wake();
    await this.running;
    await Promise.all([...this.options.sinks.values()].map((sink) => sink.close()));
  }

  private wake(): void {
    this.dirty = true;
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async loop(): Promise<void> {
    let storeDelay = STORE_RETRY_MS.initial;
    while (!this.stopped) {
      if (this.inFlight.size >= this.batchesInFlight) {
        await Promise.race(this.inFlight);
        continue;
      }
      this.dirty = false;
      try {
        const claimed = await this.options.store.claimEvents({
          owner: this.options.owner,
          destinations: this.destinations,
          limit: this.batchSize,
          leaseMs: this.leaseMs,
          now: this.options.clock.now(),
        });
        storeDelay = STORE_RETRY_MS.initial;
        if (claimed.length > 0) {
          const delivery: Promise<void> = this.deliver(claimed).finally(() => this.inFlight.delete(delivery));
          this.inFlight.add(delivery);
          if (claimed.length === this.batchSize) continue; // there may be more due
        }
        if (this.dirty) continue;
        if (this.dueUnknown) {
          this.dueUnknown = false;
          // A lease running out (another instance died mid-delivery) falls due too: nextEventDueTime counts it.
          this.noteDue(await this.options.store.nextEventDueTime(this.destinations, this.options.clock.now()));
          if (this.dirty) continue;
        }
        const wait = this.nextDue === undefined ? this.leaseMs : Math.min(this.leaseMs, Math.max(0, this.nextDue - this.options.clock.now()));
        if (await this.sleep(wait)) {
          this.nextDue = undefined;
          this.dueUnknown = true;
        }
      } catch (err) {
        if (this.stopped) break;
        this.options.log(`notifications: the store failed; retrying in ${storeDelay} ms`, err);
        await this.sleep(storeDelay);
        storeDelay = Math.min(storeDelay * 2, STORE_RETRY_MS.max);
      }
    }
    await Promise.all(this.inFlight);
  }

  /** A time some event falls due: the loop's wait ends by then. */
  private noteDue(time: number | undefined): void {
    if (time === undefined || (this.nextDue !== undefined && time >= this.nextDue)) return;
    this.nextDue = time;
    // A wait already under way was set for later: let it recompute.
    for (const resolve of this.waiting) resolve();
  }

  /** Until `ms` pass (then true), something is woken, or the dispatcher stops. */
  private sleep(ms: number): Promise<boolean> {
    if (this.dirty || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: Timer | undefined;
      const done = (timedOut: boolean): void => {
        timer?.cancel();
        this.waiting.delete(wake);
        resolve(timedOut);
      };
      const wake = (): void => done(false);
      timer = this.options.clock.after(ms, () => done(true));
      this.waiting.add(wake);
    });
  }

  private async deliver(events: readonly EventRecord[]): Promise<void> {
    const byDestination = new Map<string, EventRecord[]>();
    for (const event of events) {
      const list = byDestination.get(event.destination);
      if (list) list.push(event);
      else byDestination.set(event.destination, [event]);
    }
    const settlements: EventSettlement[] = [];
    await Promise.all(
      [...byDestination].map(async ([destination, batch]) => {
        const sink = this.options.sinks.get(destination)!;
        let outcomes: DeliveryOutcome[];
        try {
          // Claimed, then closed before the claim's answer came back: given back due now, as an aborted
          // delivery is, never handed to a sink (whose signal has already fired).
          outcomes = this.stopped
            ? batch.map(() => ({ kind: "retry", reason: "the dispatcher closed before delivering it" }))
            : await sink.deliver(batch.map((e) => this.notificationOf(e)), this.abort.signal);
        } catch (err) {
          // A sink must not throw; one that does is retried like a broker that is down.
          this.options.log(`notifications: sink ${sink.name} threw`, err);
          outcomes = batch.map(() => ({ kind: "retry", reason: `the sink failed: ${err instanceof Error ? err.message : String(err)}` }));
        }
        batch.forEach((event, i) => settlements.push(this.settlementOf(event, outcomes[i] ?? { kind: "retry", reason: "no outcome" }, sink)));
      }),
    );
    await this.settle(settlements);
  }

  private notificationOf(event: EventRecord): Notification {
    let data: Uint8Array | undefined;
    if (event.withPayload) {
      const json = operationJson(toOperation(event.operation), this.options.registry);
      data = Buffer.from(JSON.stringify(json));
    }
    return { eventId: event.id, attributes: event.attributes, data, publishTime: new Date(event.createTime), attempt: event.attempt };
  }

  private settlementOf(event: EventRecord, outcome: DeliveryOutcome, sink: Sink): EventSettlement {
    const settlement = this.settlementFor(event, outcome, sink);
    // Shutting down: the event is given back undelivered, which is no outcome of a delivery.
    if (settlement.outcome === "retry" && this.stopped) return settlement;
    const counted = settlement.outcome === "retry" ? "retried" : settlement.outcome;
    this.stats[counted]++;
    this.options.onOutcome?.(event.destination, counted);
    return settlement;
  }

  private settlementFor(event: EventRecord, outcome: DeliveryOutcome, sink: Sink): EventSettlement {
    const { id, attempt } = event;
    if (outcome.kind === "delivered") {
      return { id, attempt, outcome: "delivered" };
    }
    if (outcome.kind === "failed") {
      this.options.log(`notifications: ${sink.name} refused event ${id} (${event.attributes["operationName"] ?? event.operationId}): ${outcome.reason}; kept as failed`, undefined, aboutEvent(event));
      return { id, attempt, outcome: "failed", error: outcome.reason };
    }
    // Shutting down: due again at once, for this instance after its restart or for another.
    if (this.stopped) return { id, attempt, outcome: "retry", runAfter: this.options.clock.now(), error: outcome.reason };
    const now = this.options.clock.now();
    const runAfter = now + this.delay(attempt, outcome.retryAfterMs);
    if (runAfter > event.windowStart + this.retryForMs) {
      const reason = `gave up after ${attempt} attempts: ${outcome.reason}`;
      this.options.log(`notifications: ${sink.name}: event ${id} ${reason}; kept as failed`, undefined, aboutEvent(event));
      return { id, attempt, outcome: "failed", error: reason };
    }
    this.options.log.debug?.(`notifications: ${sink.name}: event ${id} attempt ${attempt}: ${outcome.reason}; retrying in ${runAfter - now} ms`, aboutEvent(event));
    this.noteDue(runAfter);
    return { id, attempt, outcome: "retry", runAfter, error: outcome.reason };
  }

  /** Exponential backoff with "equal jitter" (half fixed, half random), or what the receiver asked for. */
  private delay(attempt: number, retryAfterMs: number | undefined): number {
    const { initialMs, maxMs } = this.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
    const backoff = base / 2 + (this.random() * base) / 2;
    return Math.round(retryAfterMs === undefined ? backoff : Math.min(Math.max(retryAfterMs, backoff), this.retryForMs));
  }

  /** Records the outcomes, retrying through store outages while the leases last; then others deliver again. */
  private async settle(settlements: readonly EventSettlement[]): Promise<void> {
    if (settlements.length === 0) return;
    const giveUpAt = this.options.clock.now() + this.leaseMs;
    for (let delay = STORE_RETRY_MS.initial; ; delay = Math.min(delay * 2, STORE_RETRY_MS.max)) {
      try {
        await this.options.store.settleEvents(settlements, this.options.clock.now());
        return;
      } catch (err) {
        if (this.options.clock.now() + delay >= giveUpAt) {
          this.options.log("notifications: cannot record delivery outcomes; the events will be delivered again", err);
          return;
        }
        this.options.log(`notifications: cannot record delivery outcomes; retrying in ${delay} ms`, err);
        await this.options.clock.sleep(delay);
      }
    }
  }
}

/** The fields of a log line about one event: the operation it announces. */
function aboutEvent(event: EventRecord): LogFields {
  return { event: event.id, operation: event.attributes["operationName"] ?? event.operationId };
}
