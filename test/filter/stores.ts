/**
 * Both stores side by side for filter tests: a SQLite file and a fresh PostgreSQL schema, filled with the
 * same operations through the Store interface, so that a filter's result can be compared between them
 * and with the reference evaluator.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import type { ListedOperation, OperationRecord, Store, StoredAny, StoredError } from "../../src/store/store.js";
import type { FilterExpr } from "../../src/filter/index.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

export const T = 1_700_000_000_000;
/** Far enough that nothing expires or becomes claimable by accident. */
const FAR = T + 1_000_000_000;
export const LIST_NOW = T + 1_000;

/** An operation to put in the stores, and what happens to it there. */
export interface OperationPlan {
  id: string;
  name: string;
  method: string;
  /** Milliseconds after T. */
  createAt: number;
  metadata?: StoredAny | undefined;
  /** queued: only created; running: claimed; response / error: finished (from queued, or after a claim). */
  fate: "queued" | "running" | "response" | "error";
  claimed: boolean;
  progress?: StoredAny | undefined;
  /** For finished operations. */
  finish?: { atOffset: number; metadata?: StoredAny | undefined; error?: StoredError | undefined; response?: StoredAny | undefined } | undefined;
}

export interface StorePair {
  readonly stores: readonly { readonly name: string; readonly store: Store }[];
  /** Empties both stores (a new SQLite file; the PostgreSQL table truncated). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function openStorePair(): Promise<StorePair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "longrun-filter-"));
  let files = 0;
  const openSqlite = () => SqliteStore.open(path.join(dir, `store-${++files}.db`), { synchronous: "NORMAL" });
  const schema: TestSchema = await freshSchema("lr_filter");
  const postgres = await PostgresStore.open({ connectionString: schema.url, schema: schema.schema, log: () => {} });
  let sqlite = openSqlite();
  const pair = {
    get stores() {
      return [
        { name: "SQLite", store: sqlite as Store },
        { name: "PostgreSQL", store: postgres as Store },
      ];
    },
    async reset() {
      await sqlite.close();
      sqlite = openSqlite();
      await schema.admin.query(`TRUNCATE "${schema.schema}".operations, "${schema.schema}".outbox`);
    },
    async close() {
      await sqlite.close();
      await postgres.close();
      await schema.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return pair;
}

/**
 * Writes the plans into a store: creates by time, one claim for the claimed, one progress call, and
 * finishes by time. Returns the metadata JSON each operation ends with (what the stores filter on).
 */
export async function fill(store: Store, plans: readonly OperationPlan[]): Promise<Map<string, string | undefined>> {
  const byTime = new Map<number, OperationPlan[]>();
  for (const plan of plans) byTime.set(plan.createAt, [...(byTime.get(plan.createAt) ?? []), plan]);
  for (const [at, group] of [...byTime].sort(([a], [b]) => a - b)) {
    await store.create(
      group.map((p) => ({
        id: p.id,
        name: p.name,
        parent: "",
        method: p.method,
        requestId: undefined,
        request: new Uint8Array(),
        metadata: p.metadata,
        runAfter: p.claimed ? T : FAR,
      })),
      T + at,
    );
  }
  const claimed = plans.filter((p) => p.claimed);
  if (claimed.length > 0) {
    const methods = [...new Set(claimed.map((p) => p.method))];
    const got = await store.claim({ owner: "w", methods, limit: claimed.length, leaseMs: 1_000_000_000, now: T + 100 });
    if (got.length !== claimed.length) throw new Error(`claimed ${got.length} of ${claimed.length}`);
  }
  const progressed = plans.filter((p) => p.claimed && p.progress !== undefined);
  if (progressed.length > 0) await store.progress(progressed.map((p) => ({ id: p.id, attempt: 1, metadata: p.progress! })), T + 101);
  const finishing = plans.filter((p) => p.finish !== undefined);
  const offsets = [...new Set(finishing.map((p) => p.finish!.atOffset))].sort((a, b) => a - b);
  for (const offset of offsets) {
    const group = finishing.filter((p) => p.finish!.atOffset === offset);
    await store.finish(
      group.map((p) => ({ id: p.id, attempt: p.claimed ? 1 : 0, metadata: p.finish!.metadata, error: p.finish!.error, response: p.finish!.response })),
      1_000_000_000,
      T + 200 + offset,
    );
  }
  return new Map(plans.map((p) => [p.id, (p.finish?.metadata ?? (p.claimed ? p.progress : undefined) ?? p.metadata)?.json]));
}

/** Every operation the store lists with the filter, newest first, read in pages of `pageSize` through the cursor. */
export async function listAll(store: Store, filter: FilterExpr | undefined, pageSize = 1000): Promise<ListedOperation[]> {
  const all: ListedOperation[] = [];
  let after: { createTime: number; id: string } | undefined;
  for (;;) {
    const page = await store.list({ parent: "", filter, after, limit: pageSize, now: LIST_NOW });
    all.push(...page);
    if (page.length < pageSize) return all;
    const last = page[page.length - 1]!;
    after = { createTime: last.createTime, id: last.id };
  }
}
