import { Code } from "../core/code.js";
import { RpcError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { EventRecord, FinishRequest, NewEvent, OperationRecord, OperationView, ProgressUpdate, RetryLater, Store } from "../store/store.js";
import { Batcher } from "./batch.js";
import { announcesStarts, eventsOf, finishOutcome, startEventsOf, type NotificationRoute } from "./notifications.js";
import type { Clock } from "./clock.js";
import { NO_METRICS, type RuntimeMetrics } from "./metrics.js";

/**
 * A finish this runtime writes: the store's request, and what readers are served besides the result (the
 * operation's name, who started it, the resource it belongs to), for the local waiters told without a read.
 */
export type NamedFinish = FinishRequest & Pick<OperationView, "name" | "principal" | "resource"> & { method: string };

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

/** Backoff of result and progress writes while the store is unavailable: from the first to the last. */
const WRITE_RETRY_MS = { initial: 100, max: 5000 };

export interface ResultWriterOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  retentionMs: number;
  /** While stopping, a write the store refused as unavailable fails instead of being retried. */
  isStopping: () => boolean;
  /** Where finishes are announced (completion notifications): their events go in with the finish. */
  notifications?: readonly NotificationRoute[] | undefined;
  /** Told of each result written. @default NO_METRICS */
  metrics?: RuntimeMetrics;
  /** Who holds this runtime's leases (its instance id): retries give theirs back, handed-over events are leased to it. */
  owner: string;
  /**
   * This instance's dispatcher, to be handed the events a finish writes straight away (written leased to
   * `owner`, so no claim statement is needed to send them). Without it, events wait to be claimed.
   */
  handOff?: EventHandOff | undefined;
}

/** Where the events of the finishes written here go at once (src/notify/dispatcher.ts). */
export interface EventHandOff {
  /** How long the events are leased to this instance: should this instance die before delivering them, another takes them over after it. */
  leaseMs: number;
  /** Called after the finish committed, with its events as the outbox now holds them. */
  deliver(events: readonly EventRecord[]): void;
}

/**
 * The write path of running operations: progress and results, each batched into one fenced statement for
 * all concurrent writers (the store refuses a write whose attempt no longer holds the operation), retried
 * through store outages — dropping a result would lose work, and fencing makes a late write of a lost
 * attempt harmless.
 */
export class ResultWriter implements LocalFinishes {
  private readonly progressWrites: Batcher<ProgressUpdate, boolean>;
  private readonly finishes: Batcher<NamedFinish, boolean>;
  private readonly retries: Batcher<RetryLater, boolean>;
  /** Ids in the finish statement being written now (the batcher writes one at a time). */
  private readonly finishing = new Set<string>();
  private readonly finishedListeners = new Set<(finished: readonly FinishedOperation[]) => void>();
  /** Destinations whose routes announce starts: their finish events are claimed, in order, not handed over. */
  private readonly ordered: ReadonlySet<string>;

  constructor(private readonly options: ResultWriterOptions) {
    const { store, clock } = options;
    this.progressWrites = new Batcher((items) => this.whileUnavailable(() => store.progress(items, clock.now())));
    this.finishes = new Batcher((items) => this.whileUnavailable(() => this.writeFinishes(items)));
    this.retries = new Batcher((items) => this.whileUnavailable(() => store.retryLater(options.owner, items, clock.now())));
    this.ordered = new Set((options.notifications ?? []).filter(announcesStarts).map((r) => r.destination));
  }

  /**
   * Puts a failed attempt back in the queue to be run again at its runAfter (the method's retry policy),
   * if this runtime still holds it at that attempt; false if the store refused it.
   */
  retryLater(retry: RetryLater): Promise<boolean> {
    return this.retries.add(retry);
  }

  /** Writes the metadata if the attempt still holds the operation; false if the store refused it. */
  progress(update: ProgressUpdate): Promise<boolean> {
    return this.progressWrites.add(update);
  }

  /**
   * Writes the result if the attempt still holds the operation; false if the store refused it. Its events
   * get their ids here, once: a write retried through an outage carries the same ones.
   */
  finish(request: NamedFinish): Promise<boolean> {
    const routes = this.options.notifications;
    if (routes === undefined || routes.length === 0) return this.finishes.add(request);
    const events = eventsOf(routes, { name: request.name, method: request.method, outcome: finishOutcome(request.error), metadataJson: request.metadata?.json });
    if (events.length === 0) return this.finishes.add(request);
    return this.finishes.add({ ...request, events: this.leased(events, request) });
  }

  /**
   * The events this instance's dispatcher will send at once: all but those of a route that announces starts
   * (a start event may still be pending before them, and per operation events go in order), and all when
   * the finish carries no metadata (the snapshot handed over would lack the stored one).
   */
  private leased(events: NewEvent[], request: NamedFinish): NewEvent[] {
    const handOff = this.options.handOff;
    if (handOff === undefined || request.metadata === undefined) return events;
    const lease = { owner: this.options.owner, expireTime: this.options.clock.now() + handOff.leaseMs };
    return events.map((e) => (this.ordered.has(e.destination) ? e : { ...e, lease }));
  }

  /** Handed-over events of the finishes that applied, as the outbox holds them, to the dispatcher. */
  private handOver(items: readonly NamedFinish[], applied: readonly boolean[], now: number): void {
    const handOff = this.options.handOff;
    if (handOff === undefined) return;
    const events: EventRecord[] = [];
    items.forEach((item, i) => {
      if (applied[i] !== true) return;
      const { name, metadata, error, response } = item;
      for (const { lease, ...event } of item.events ?? []) {
        if (lease === undefined) continue;
        events.push({
          ...event, seq: 0, operationId: item.id, method: item.method, operation: { name, state: "done", metadata, error, response },
          state: "pending", attempt: 1, runAfter: now, createTime: now, windowStart: now,
          leaseOwner: lease.owner, leaseExpireTime: lease.expireTime, lastError: undefined,
        });
      }
    });
    if (events.length > 0) handOff.deliver(events);
  }

  /**
   * Writes the OPERATION_STARTED events of operations just claimed, where a route asks for them; undefined
   * when none does. Their handlers wait for it, so a start is announced before anything the handler
   * causes (its finish above all); retried through store outages like results.
   */
  announceStarts(records: readonly OperationRecord[]): Promise<void> | undefined {
    const routes = this.options.notifications;
    if (routes === undefined || records.length === 0) return undefined;
    const events = startEventsOf(routes, records.map((r) => ({ id: r.id, name: r.name, method: r.method, metadataJson: r.metadata?.json })));
    if (events.length === 0) return undefined;
    const { store, clock } = this.options;
    return this.whileUnavailable(() => store.appendEvents(events, clock.now())).then(
      () => undefined,
      (err: unknown) => this.options.log("announcing started operations failed", err),
    );
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
    const { store, clock, retentionMs } = this.options;
    const now = clock.now();
    const results = new Map<string, number>();
    for (const item of items) results.set(item.id, (results.get(item.id) ?? 0) + 1);
    for (const id of results.keys()) this.finishing.add(id);
    let applied: boolean[] | undefined;
    try {
      applied = await store.finish(items, retentionMs, now);
      return applied;
    } finally {
      for (const id of results.keys()) this.finishing.delete(id);
      if (applied) {
        this.countFinished(items, applied);
        this.handOver(items, applied, now);
      }
      const finished = items.map((item, i): FinishedOperation => {
        // A finish without metadata keeps the stored one, which only a read can tell (the runtime always gives it).
        const written = applied?.[i] === true && results.get(item.id) === 1 && item.metadata !== undefined;
        const { name, principal, resource, metadata, error, response } = item;
        return {
          id: item.id,
          record: written ? { name, principal, resource, state: "done", metadata, error, response, endTime: now, expireTime: now + retentionMs } : undefined,
        };
      });
      this.announce(finished);
    }
  }

  private countFinished(items: readonly NamedFinish[], applied: readonly boolean[]): void {
    const metrics = this.options.metrics ?? NO_METRICS;
    items.forEach((item, i) => {
      if (applied[i] === true) metrics.finished(item.method, item.error?.code ?? 0);
    });
  }

  private announce(finished: readonly FinishedOperation[]): void {
    for (const listener of this.finishedListeners) {
      try {
        listener(finished);
      } catch (err) {
        this.options.log("a finished-operations listener failed", err);
      }
    }
  }

  /** Runs `write`, again and again with backoff while the store answers UNAVAILABLE and we are not stopping. */
  private async whileUnavailable<T>(write: () => Promise<T>): Promise<T> {
    for (let delay = WRITE_RETRY_MS.initial; ; delay = Math.min(delay * 2, WRITE_RETRY_MS.max)) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof RpcError && err.code === Code.UNAVAILABLE) || this.options.isStopping()) throw err;
        this.options.log(`the store is unavailable; retrying a write in ${delay} ms`, err);
        await this.options.clock.sleep(delay);
      }
    }
  }
}
