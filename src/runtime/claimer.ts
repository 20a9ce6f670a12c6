import type { Logger } from "../core/logger.js";
import type { ClaimLimit, OperationRecord, Store } from "../store/store.js";
import type { Clock, Timer } from "./clock.js";
import { NO_METRICS, type RuntimeMetrics } from "./metrics.js";

/** Backoff before re-trying a claim after the store failed, so an outage is not a busy loop. */
const CLAIM_RETRY_MS = 1000;

export interface ClaimerOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** This instance, as the leases name it. */
  owner: string;
  /** The methods this instance runs. */
  methods: readonly string[];
  /** The concurrency limits of those that declare one (docs/scheduling.md). @default none */
  limits?: readonly ClaimLimit[];
  leaseMs: number;
  retryBackoff: { initialMs: number; maxMs: number };
  /** How many more operations may run now: what a claim asks for (backpressure). */
  freeSlots: () => number;
  /** Runs what was claimed. */
  run: (records: readonly OperationRecord[]) => void;
  /** Told how long each operation waited for its first claim. @default NO_METRICS */
  metrics?: RuntimeMetrics;
}

/**
 * The claim loop: claims due operations up to the free slots whenever it is woken — by the change feed
 * (a start, a released lease), by a slot freed while saturated, or by the timer of the next operation that
 * becomes due (retry backoff, a lost worker's lease expiring) — and never polls otherwise.
 */
export class Claimer {
  private claiming = false;
  private claimAgain = false;
  private saturated = false;
  private stopped = false;
  /**
   * The last claim, with limits, took fewer than it asked for: due operations may be waiting for a slot of
   * a method or key at its limit, which only an operation ending frees (`limitedDone`).
   */
  private heldBack = false;
  private lookAheadsStarted = 0;
  private dueTimer: Timer | undefined;

  constructor(private readonly options: ClaimerOptions) {}

  /** Claims due operations up to the free capacity; re-runs while there may be more. */
  wake(): void {
    if (this.stopped) return;
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
   * A slot was freed: claim again if the last claim stopped for want of one — or, on a store no other
   * process writes to (SQLite), if a limit held work back: there a claim asked for now commits after the
   * finish of the handler that just returned (the turn's writes share one commit, claims last), so it
   * sees the slot that finish frees instead of waiting for its `done`.
   */
  slotFreed(): void {
    if (this.saturated || (this.heldBack && !this.options.store.shared)) this.wake();
  }

  /**
   * Operations ended (here or, on PostgreSQL, on another instance): claim again if the last claim may have
   * left work behind for a limit, since their slots may be free now. Never otherwise: an instance without
   * limits claims as it always did, and one whose due work is all at its limits sleeps until this (or a
   * start, a release, the next due time) wakes it — at most one claim per finish batch, no polling.
   */
  limitedDone(): void {
    if (this.heldBack) this.wake();
  }

  stop(): void {
    this.stopped = true;
    this.dueTimer?.cancel();
  }

  /**
   * Claims until nothing is left to claim. A wake-up that arrives while a claim is in flight only sets
   * `claimAgain`, checked after it, or it would be lost. The look-ahead for the next due operation runs
   * beside the loop rather than in it: awaited, it held the next claim back by a round trip per cycle
   * (bench e2e: 162 look-aheads per 10,200 operations, each blocking the claim after it); a wake-up
   * while it runs starts a claim (and a look-ahead of its own) at once.
   */
  private async claimLoop(): Promise<void> {
    const { store, clock, owner, methods, leaseMs, retryBackoff } = this.options;
    const limits = this.options.limits !== undefined && this.options.limits.length > 0 ? this.options.limits : undefined;
    this.claiming = true;
    try {
      for (;;) {
        this.claimAgain = false;
        const free = this.options.freeSlots();
        this.saturated = free <= 0;
        if (free <= 0 || this.stopped) break; // a freed slot wakes us when saturated
        const now = clock.now();
        const claimed = await store.claim({ owner, methods, limit: free, leaseMs, now, retryBackoff, limits });
        this.count(claimed, now);
        this.options.run(claimed);
        this.heldBack = limits !== undefined && claimed.length < free;
        // Not again at once when a limit held work back: the keys at their limit would be walked past for
        // nothing (their due operations are in the order too); the `done` of one of theirs wakes us instead.
        if (claimed.length === free || this.claimAgain) continue; // there may be more
        void this.scheduleNextDue();
        break;
      }
    } catch (err) {
      this.options.log("claiming operations failed; retrying", err);
      this.scheduleWake(CLAIM_RETRY_MS);
    } finally {
      this.claiming = false;
    }
  }

  /** Claim latency, of first attempts only: a retry's wait is its backoff, not the queue's. */
  private count(claimed: readonly OperationRecord[], now: number): void {
    const metrics = this.options.metrics;
    if (metrics === undefined || metrics === NO_METRICS) return;
    for (const record of claimed) {
      if (record.attempt === 1) metrics.claimed(record.method, Math.max(0, now - record.createTime) / 1000);
    }
  }

  /**
   * One timer for the next operation that becomes due. Look-aheads may overlap and answer out of order:
   * only the latest started sets the timer, since an older one, blind to what was committed after it
   * began, could move the timer past a due operation. The timer is at most a lease away: it counts the
   * due time's distance on this instance's wall clock, and a step of that clock (NTP putting right a clock
   * that was behind) or another instance's clock ahead of it would otherwise leave an operation that is
   * due waiting out the whole distance, however long (an operation released by an instance whose clock is
   * ten minutes ahead waited ten minutes after the clocks agreed).
   */
  private async scheduleNextDue(): Promise<void> {
    const sequence = ++this.lookAheadsStarted;
    const now = this.options.clock.now();
    try {
      const due = await this.options.store.nextDueTime(this.options.methods, now);
      if (sequence !== this.lookAheadsStarted) return;
      if (due !== undefined) this.scheduleWake(Math.min(due - now, this.options.leaseMs));
    } catch (err) {
      this.options.log("looking for the next due operation failed; retrying", err);
      this.scheduleWake(CLAIM_RETRY_MS);
    }
  }

  private scheduleWake(delayMs: number): void {
    if (this.stopped) return;
    this.dueTimer?.cancel();
    this.dueTimer = this.options.clock.after(delayMs, () => this.wake());
  }
}
