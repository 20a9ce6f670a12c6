/** A fresh longrun store for one run (the throughput and latency benchmarks): a temporary SQLite file or a fresh PostgreSQL schema. */
import { procCpuSeconds } from "./server-process.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore, PostgresStore, type Store } from "../../src/index.js";
import { freshSchema, type TestSchema } from "../../test/support/postgres.js";

/**
 * longrun's job: `demo`, the demo's Demo/Sleep with duration 0 (which writes progress 100 durably before
 * it returns), or `noop`, a Demo/Sleep handler that only returns (bench/support/noop-methods.ts), as the peers' jobs.
 */
export type LongrunHandler = "demo" | "noop";

/** How longrun runs: which store, how many processes share it, what they run. */
export interface LongrunConfig {
  store: "sqlite" | "postgres";
  instances: number;
  /** @default "demo" */
  handler?: LongrunHandler;
  /** Handlers running at once per instance. @default 64, longrun's default */
  concurrency?: number;
}

/** A fresh store for one run: a temporary SQLite file or a fresh PostgreSQL schema. */
export interface LongrunStore {
  /** The environment `longrun serve` (and the drain worker) read the store from. */
  env: Record<string, string>;
  db: TestSchema | undefined;
  open(): Promise<Store>;
  remove(): Promise<void>;
}

export async function longrunStore(config: Pick<LongrunConfig, "store" | "instances">): Promise<LongrunStore> {
  if (config.store === "sqlite") {
    if (config.instances !== 1) throw new Error("the embedded store serves one process");
    const dir = mkdtempSync(join(tmpdir(), "longrun-bench-"));
    const path = join(dir, "longrun.db");
    return {
      env: { LONGRUN_STORE: `sqlite:${path}` },
      db: undefined,
      open: async () => SqliteStore.open(path),
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const db = await freshSchema("lr_bench");
  return {
    env: { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema },
    db,
    open: () => PostgresStore.open({ connectionString: db.url, schema: db.schema }),
    remove: () => db.drop(),
  };
}

/** CPU seconds so far of each PostgreSQL backend serving the store's server (by its application_name); none on SQLite. */
export async function backendCpu(storage: LongrunStore): Promise<Map<string, number> | undefined> {
  const db = storage.db;
  if (!db) return undefined;
  const { rows } = await db.admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [db.applicationName]);
  const cpu = new Map<string, number>();
  for (const { pid } of rows) {
    try {
      cpu.set(String(pid), procCpuSeconds(pid));
    } catch {
      // Gone since the query.
    }
  }
  return cpu;
}
