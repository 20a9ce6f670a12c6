import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { Store } from "../../src/store/store.js";
import { freshSchema } from "./postgres.js";

/** A store a suite runs on, opened fresh, and how to throw it away afterwards. */
export interface StoreUnderTest {
  label: "SQLite" | "PostgreSQL";
  open(): Promise<{ store: Store; drop(): Promise<void> }>;
}

/** The embedded store on a fresh file, and PostgreSQL in a fresh schema (named `${prefix}_…`): for suites that run on both. */
export function bothStores(prefix: string): StoreUnderTest[] {
  return [
    { label: "SQLite", open: async () => ({ store: SqliteStore.open(join(mkdtempSync(join(tmpdir(), `longrun-${prefix}-`)), "longrun.db")), drop: async () => undefined }) },
    {
      label: "PostgreSQL",
      open: async () => {
        const db = await freshSchema(`lr_${prefix}`);
        return { store: await PostgresStore.open({ connectionString: db.url, schema: db.schema }), drop: () => db.drop() };
      },
    },
  ];
}
