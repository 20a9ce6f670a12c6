import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { OperationNames } from "../core/names.js";
import {
  OperationCounts_MethodCountsSchema,
  OperationCountsSchema,
  type GetOperationCountsRequest,
  type OperationCounts,
  type OperationCounts_MethodCounts,
} from "../gen/longrun/admin/v1/counts_pb.js";
import type { StateCount, Store } from "../store/store.js";

/** How long a collection's counts are served from memory: every tab refreshing them costs one read a second. */
export const COUNTS_TTL_MS = 1000;
/** Scopes (parent and resource) kept at most; the oldest is forgotten first. */
const MAX_SCOPES = 1024;

interface Entry {
  readAt: number;
  counts: Promise<StateCount[]>;
}

/**
 * `GetOperationCounts`: a collection's operations by method and state (Store.stateCounts, one statement
 * walking the parent's operations). Its cost grows with the collection, and every open dashboard asks for
 * it when operations change, so the answer for one (parent, resource) is shared: calls within
 * COUNTS_TTL_MS of a read, or while one is under way, get that read's answer — at most one aggregate a
 * second per scope, however many tabs ask.
 */
export class OperationCountsReader {
  readonly #store: Store;
  readonly #names: OperationNames;
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry>();

  constructor(store: Store, names: OperationNames, now: () => number) {
    this.#store = store;
    this.#names = names;
    this.#now = now;
  }

  async read(request: GetOperationCountsRequest, resource?: string): Promise<OperationCounts> {
    const parent = this.#names.parseListName(request.name);
    const now = this.#now();
    const key = `${parent}\u0000${resource ?? "\u0000"}`;
    let entry = this.#cache.get(key);
    // A wall clock stepped back (now < readAt) makes the entry stale too.
    if (entry === undefined || now - entry.readAt >= COUNTS_TTL_MS || now < entry.readAt) {
      entry = { readAt: now, counts: this.#store.stateCounts({ parent, resource, now }) };
      this.#keep(key, entry);
      // A failed read is not served to others: the next call tries again.
      const failed = entry;
      failed.counts.catch(() => {
        if (this.#cache.get(key) === failed) this.#cache.delete(key);
      });
    }
    return toMessage(await entry.counts, entry.readAt);
  }

  #keep(key: string, entry: Entry): void {
    this.#cache.delete(key);
    this.#cache.set(key, entry);
    if (this.#cache.size > MAX_SCOPES) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }
}

function toMessage(counts: readonly StateCount[], readAt: number): OperationCounts {
  const byMethod = new Map<string, OperationCounts_MethodCounts>();
  for (const { method, state, count } of counts) {
    let m = byMethod.get(method);
    if (m === undefined) {
      m = create(OperationCounts_MethodCountsSchema, { method });
      byMethod.set(method, m);
    }
    m[state] += BigInt(count);
  }
  const methods = [...byMethod.values()].sort((a, b) => (a.method < b.method ? -1 : a.method > b.method ? 1 : 0));
  return create(OperationCountsSchema, { methods, readTime: timestampFromMs(readAt) });
}
