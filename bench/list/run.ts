/**
 * ListOperations at scale: N operations (default 1,000,000) in each store, listed through the Store with
 * compiled AIP-160 filters, page 1 and page 1,000 (50 per page), p50/p99 over repeated reads, with the
 * plan each store used. 1% of the operations belong to a small parent, 99% to a big one: listing the
 * small parent must cost what listing the big one does.
 *
 *   npm run bench -- list [--n 1000000] [--stores sqlite,postgres] [--repeat 30] [--no-analyze]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { buildRegistry } from "../../src/core/registry.js";
import { buildFilterSchema, compileFilter, type FilterExpr } from "../../src/filter/index.js";
import { PostgresStore, SqliteStore, type ListedOperation, type Store } from "../../src/index.js";
// The Store's own input types, which the package does not export: this benchmark calls the Store directly.
import type { ListCursor, ListQuery, NewOperation } from "../../src/store/store.js";
import { freshSchema } from "../../test/support/postgres.js";

const PAGE = 50;
const SMALL = "projects/small/locations/l";
const BIG = "projects/big/locations/l";
const METHOD = "longrun.demo.v1.Demo.Sleep";
const T0 = Date.UTC(2026, 0, 1);
/** Creation times are spread over a day, in order. */
const SPREAD_MS = 24 * 3600 * 1000;

/** A store as the benchmark uses it: the Store, and the plan of a list query. */
interface BenchStore {
  label: string;
  store: Store & { explainList(query: ListQuery, analyze?: boolean): Promise<string> };
  /** Refreshes the planner's statistics after the bulk load, as autovacuum would. */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

/** What `npm run bench -- list` was asked (bench/list/index.ts declares the flags). */
export interface ListArgs {
  n: number;
  stores: ("sqlite" | "postgres")[];
  repeat: number;
  "no-analyze": boolean;
}

export async function run(args: ListArgs): Promise<void> {
  const { n, repeat } = args;
  const registry = buildRegistry([SleepMetadataSchema.file]);
  const schema = buildFilterSchema([SleepMetadataSchema]);
  const midFrom = new Date(T0 + SPREAD_MS * 0.1).toISOString();
  const midTo = new Date(T0 + SPREAD_MS * 0.9).toISOString();
  const cases: { label: string; parent: string; filter: string }[] = [
    { label: "big parent (99%), no filter", parent: BIG, filter: "" },
    { label: "small parent (1%), no filter", parent: SMALL, filter: "" },
    {
      label: "big parent, done = false AND progress > 50 AND create_time range",
      parent: BIG,
      filter: `done = false AND metadata.progress_percent > 50 AND create_time >= "${midFrom}" AND create_time < "${midTo}"`,
    },
    {
      label: "small parent, the same filter",
      parent: SMALL,
      filter: `done = false AND metadata.progress_percent > 50 AND create_time >= "${midFrom}" AND create_time < "${midTo}"`,
    },
  ];

  for (const kind of args.stores) {
    const bench = await openBenchStore(kind);
    try {
      const filled = performance.now();
      await fill(bench.store, n, registry);
      if (!args["no-analyze"]) await bench.analyze();
      console.log(`${bench.label}: ${n.toLocaleString("en")} operations stored in ${((performance.now() - filled) / 1000).toFixed(0)} s`);
      const rows: Record<string, string>[] = [];
      for (const c of cases) {
        const filter = c.filter ? compileFilter(c.filter, schema) : undefined;
        const page1 = await timePage(bench.store, c.parent, filter, undefined, repeat);
        const deep = await cursorOfPage(bench.store, c.parent, filter, 1000);
        const pageDeep = await timePage(bench.store, c.parent, filter, deep.cursor, repeat);
        rows.push({
          case: c.label,
          "page 1 p50/p99 ms": `${page1.p50} / ${page1.p99}`,
          "page 1000 p50/p99 ms": `${pageDeep.p50} / ${pageDeep.p99}${deep.page < 1000 ? ` (page ${deep.page}, the last)` : ""}`,
        });
        for (const [page, after] of [[1, undefined], [deep.page, deep.cursor]] as const) {
          const plan = await bench.store.explainList({ parent: c.parent, filter, after, limit: PAGE + 1, now: T0 + SPREAD_MS * 2 }, true);
          console.log(`\n${bench.label} — ${c.label}: plan at page ${page}\n${plan}`);
        }
      }
      console.log(`\n${bench.label}, ${n.toLocaleString("en")} operations, ${PAGE} per page, ${repeat} reads each`);
      console.table(rows);
    } finally {
      await bench.close();
    }
  }
}

async function openBenchStore(kind: string): Promise<BenchStore> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "longrun-list-"));
    const store = SqliteStore.open(join(dir, "longrun.db"), { synchronous: "NORMAL" });
    return { label: "SQLite", store, analyze: async () => undefined, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  if (kind === "postgres") {
    const db = await freshSchema("lr_list");
    const store = await PostgresStore.open({ connectionString: db.url, schema: db.schema });
    return {
      label: "PostgreSQL",
      store,
      analyze: async () => void (await db.admin.query(`ANALYZE "${db.schema}".operations`)),
      close: async () => (await store.close(), await db.drop()),
    };
  }
  throw new Error(`unknown store ${kind} (sqlite or postgres)`);
}

/** N operations in batches, through Store.create and Store.finish: creation times in order, half done. */
async function fill(store: Store, n: number, registry: ReturnType<typeof buildRegistry>): Promise<void> {
  const BATCH = 5000;
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let start = 0; start < n; start += BATCH) {
    const batch: NewOperation[] = [];
    const now = T0 + Math.floor((SPREAD_MS * start) / n);
    for (let i = start; i < Math.min(n, start + BATCH); i++) {
      const metadata = create(SleepMetadataSchema, { createTime: timestampFromMs(now), progressPercent: Math.floor(random() * 101) });
      const json = JSON.stringify(toJson(SleepMetadataSchema, metadata, { registry, useProtoFieldName: true, alwaysEmitImplicit: true }));
      const id = `op${String(i).padStart(9, "0")}`;
      const parent = i % 100 === 0 ? SMALL : BIG;
      batch.push({
        id,
        name: `${parent}/operations/${id}`,
        parent,
        method: METHOD,
        requestId: undefined,
        request: new Uint8Array(),
        metadata: { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepMetadata", value: toBinary(SleepMetadataSchema, metadata), json },
        runAfter: now,
      });
    }
    await store.create(batch, now);
    const done = batch.filter(() => random() < 0.5);
    await store.finish(
      done.map((op) => ({ id: op.id, attempt: 0, response: { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepResponse", value: new Uint8Array() } })),
      365 * 24 * 3600 * 1000,
      now,
    );
  }
}

async function timePage(store: Store, parent: string, filter: FilterExpr | undefined, after: ListCursor | undefined, repeat: number) {
  const times: number[] = [];
  for (let i = 0; i < repeat + 3; i++) {
    const s = performance.now();
    await store.list({ parent, filter, after, limit: PAGE + 1, now: T0 + SPREAD_MS * 2 });
    if (i >= 3) times.push(performance.now() - s); // the first reads warm the caches
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => (times[Math.min(times.length - 1, Math.floor(times.length * p))] ?? 0).toFixed(2);
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * The keyset cursor that starts page `page` (or the last page, if there are fewer), walking there the way
 * a client pages.
 */
async function cursorOfPage(store: Store, parent: string, filter: FilterExpr | undefined, page: number): Promise<{ cursor: ListCursor | undefined; page: number }> {
  let after: ListCursor | undefined;
  for (let p = 1; p < page; p++) {
    const records: ListedOperation[] = await store.list({ parent, filter, after, limit: PAGE + 1, now: T0 + SPREAD_MS * 2 });
    if (records.length <= PAGE) return { cursor: after, page: p };
    const last = records[PAGE - 1]!;
    after = { createTime: last.createTime, id: last.id };
  }
  return { cursor: after, page };
}
