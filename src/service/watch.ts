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
}

interface Watcher {
  scope: WatchScope;
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

  constructor(private readonly options: OperationsWatchOptions) {
    this.intervalMs = options.intervalMs ?? 150;
    this.maxIds = options.maxIdsPerBatch ?? 2000;
  }

  /** Sends `listener` the changes within `scope` until the returned function is called. */
  watch(scope: WatchScope, listener: ChangesListener): () => void {
    const watcher: Watcher = { scope, whole: scope.parent === "" && scope.resource === undefined && this.options.names.parentPattern === "", send: listener };
    this.watchers.add(watcher);
    if (this.unsubscribe === undefined) {
      this.unsubscribe = this.options.store.subscribe((event) => this.heard(event));
      this.timer = this.options.clock.every(this.intervalMs, () => void this.flush());
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
      for (const watcher of this.watchers) {
        const changes: OperationChanges = resync
          ? { changed: [], deleted: [], resync: true }
          : {
              changed: views.filter((v): v is OperationView => v !== undefined && this.within(watcher.scope, v)).map((v) => v.name),
              deleted: watcher.whole ? deleted.map((id) => this.options.names.format("", id)) : [],
              resync: false,
            };
        if (!changes.resync && changes.changed.length === 0 && changes.deleted.length === 0) continue;
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
