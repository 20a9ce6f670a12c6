import type { FilterExpr } from "../filter/expr.js";
import type { OperationNames } from "../core/names.js";
import type { Logger } from "../core/logger.js";
import type { ChangeEvent, OperationView, Store } from "../store/store.js";
import type { Clock, Timer } from "../runtime/clock.js";

/** One batch of what changed, as a watcher is told it. */
export interface OperationChanges {
  /** Names of operations created or changed (progress, cancel or control requested, done, released). */
  changed: string[];
  /**
   * Names of operations deleted. Only for watchers of the whole collection of names without a parent: a
   * deleted operation cannot be read to learn whose it was, so a narrower watcher is not told.
   */
  deleted: string[];
  /** The feed may have missed changes (a dropped connection, too many to read): re-read everything shown. */
  resync: boolean;
}

/** Which operations a watcher may hear of: those a ListOperations of the same name (and scope) could list. */
export interface WatchScope {
  /** The list's parent as the store keeps it ("" for the collection of names without a parent). */
  parent: string;
  /** Only operations recorded with this resource (a list the guard allowed only there, `ctx.scope`). */
  resource?: string | undefined;
}

/**
 * Called with each batch. The same object goes to every watcher of the same scope (and a resync to all):
 * a listener must not change it, and may keep what it derives from it (the event stream's encoded frame)
 * by the object's identity.
 */
export type ChangesListener = (changes: OperationChanges) => void;

export interface OperationsWatchOptions {
  store: Store;
  names: OperationNames;
  clock: Clock;
  log: Logger;
  /** How often changes are gathered and sent. @default 150 ms */
  intervalMs?: number;
  /** More ids than this gathered in one interval are sent as a resync rather than read. @default 2000 */
  maxIdsPerBatch?: number;
  /**
   * On a store other processes write to (Store.shared), how often the running operations of each watched
   * scope are listed to catch the progress of those running elsewhere, which the change feed does not
   * carry; 0 for never. Off on a store one process owns: its feed has all. @default 1000 ms
   */
  progressSweepMs?: number;
  /** The running operations a sweep lists per scope, newest first. @default 100 */
  progressSweepLimit?: number;
}

/** `done = false`, as the list filter compiles it. */
const RUNNING: FilterExpr = { kind: "compare", field: { kind: "column", column: "done", type: "bool" }, op: "=", value: { type: "bool", value: false } };

interface Watcher {
  scope: WatchScope;
  /** Watchers with the same key hear the same names: their batch is computed once. */
  key: string;
  /** Whether the watcher may hear of every operation (deletions included). */
  whole: boolean;
  send: ChangesListener;
}

/**
 * The store's change feed, batched, for many watchers (a web dashboard's tabs): one subscription to the
 * store however many watch; every interval, the ids changed since the last are read in one statement and
 * each watcher is sent the names it may see. Nothing is read while nothing changes or nobody watches.
 */
export class OperationsWatch {
  private readonly watchers = new Set<Watcher>();
  private readonly intervalMs: number;
  private readonly maxIds: number;
  private changed = new Set<string>();
  private deleted = new Set<string>();
  private resync = false;
  private unsubscribe: (() => void) | undefined;
  private timer: Timer | undefined;
  private flushing = false;
  private sweepTimer: Timer | undefined;
  private sweeping = false;
  /** Each running operation's update time as the last sweep saw it, by id. */
  private sweptUpdates = new Map<string, number>();
  private readonly sweepMs: number;

  constructor(private readonly options: OperationsWatchOptions) {
    this.intervalMs = options.intervalMs ?? 150;
    this.maxIds = options.maxIdsPerBatch ?? 2000;
    this.sweepMs = options.store.shared ? (options.progressSweepMs ?? 1000) : 0;
  }

  /** Sends `listener` the changes within `scope` until the returned function is called. */
  watch(scope: WatchScope, listener: ChangesListener): () => void {
    const whole = scope.parent === "" && scope.resource === undefined && this.options.names.parentPattern === "";
    const key = JSON.stringify([scope.parent, scope.resource ?? null, whole]);
    const watcher: Watcher = { scope, key, whole, send: listener };
    this.watchers.add(watcher);
    if (this.unsubscribe === undefined) {
      this.unsubscribe = this.options.store.subscribe((event) => this.heard(event));
      this.timer = this.options.clock.every(this.intervalMs, () => void this.flush());
      if (this.sweepMs > 0) this.sweepTimer = this.options.clock.every(this.sweepMs, () => void this.sweep());
    }
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0) this.stop();
    };
  }

  /** How many watch now. */
  get size(): number {
    return this.watchers.size;
  }

  close(): void {
    this.watchers.clear();
    this.stop();
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.timer?.cancel();
    this.timer = undefined;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    this.sweptUpdates = new Map();
    this.changed = new Set();
    this.deleted = new Set();
    this.resync = false;
  }

  private heard(event: ChangeEvent): void {
    if (event.kind === "resync") {
      this.resync = true;
      return;
    }
    const into = event.kind === "deleted" ? this.deleted : this.changed;
    for (const id of event.ids) into.add(id);
    if (this.changed.size + this.deleted.size > this.maxIds) {
      this.resync = true;
      this.changed.clear();
      this.deleted.clear();
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || (this.changed.size === 0 && this.deleted.size === 0 && !this.resync)) return;
    this.flushing = true;
    const ids = [...this.changed].filter((id) => !this.deleted.has(id));
    const deleted = [...this.deleted];
    let resync = this.resync;
    this.changed = new Set();
    this.deleted = new Set();
    this.resync = false;
    try {
      let views: (OperationView | undefined)[] = [];
      if (!resync && ids.length > 0) {
        try {
          views = await this.options.store.getViews(ids, this.options.clock.now());
        } catch (err) {
          this.options.log("watch: cannot read the changed operations; watchers resync", err);
          resync = true;
        }
      }
      // One batch per scope, not per watcher: a hundred dashboard tabs of one collection share it (and
      // the event streams encode it once), instead of filtering and encoding the same names a hundred times.
      const resyncAll: OperationChanges = { changed: [], deleted: [], resync: true };
      const byScope = new Map<string, OperationChanges | undefined>();
      for (const watcher of this.watchers) {
        let changes = resync ? resyncAll : byScope.get(watcher.key);
        if (changes === undefined && !byScope.has(watcher.key)) {
          const batch: OperationChanges = {
            changed: views.filter((v): v is OperationView => v !== undefined && this.within(watcher.scope, v)).map((v) => v.name),
            deleted: watcher.whole ? deleted.map((id) => this.options.names.format("", id)) : [],
            resync: false,
          };
          changes = batch.changed.length === 0 && batch.deleted.length === 0 ? undefined : batch;
          byScope.set(watcher.key, changes);
        }
        if (changes === undefined) continue;
        try {
          watcher.send(changes);
        } catch (err) {
          this.options.log("watch: a watcher threw", err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Lists the running operations of each watched scope (one statement per scope, newest first, up to the
   * limit) and marks changed those whose update time moved since the last sweep (or that it had not
   * seen): the progress of
   * operations running on other instances, which their feeds keep to themselves (it would cost every
   * progress write a cross-instance notification). Bounded polling, only while someone watches.
   */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.watchers.size === 0) return;
    this.sweeping = true;
    try {
      const scopes = new Map<string, WatchScope>();
      for (const watcher of this.watchers) scopes.set(watcher.key, watcher.scope);
      const seen = new Map<string, number>();
      const now = this.options.clock.now();
      for (const scope of scopes.values()) {
        const running = await this.options.store.list({ parent: scope.parent, resource: scope.resource, filter: RUNNING, limit: this.options.progressSweepLimit ?? 100, now });
        for (const op of running) {
          seen.set(op.id, op.updateTime);
          // New to the sweep counts too: claims announce nothing, so a start of running elsewhere shows so.
          if (this.sweptUpdates.get(op.id) !== op.updateTime) this.changed.add(op.id);
        }
      }
      this.sweptUpdates = seen;
    } catch (err) {
      this.options.log("watch: cannot list the running operations", err);
    } finally {
      this.sweeping = false;
    }
  }

  private within(scope: WatchScope, view: OperationView): boolean {
    if (scope.resource !== undefined && view.resource !== scope.resource) return false;
    if (scope.parent === "") return true;
    try {
      return this.options.names.parse(view.name).parent === scope.parent;
    } catch {
      return false;
    }
  }
}
