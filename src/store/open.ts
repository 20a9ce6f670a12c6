import type { Logger } from "../core/logger.js";
import { resolve } from "node:path";
import type { Store } from "./store.js";
import { SqliteStore } from "./sqlite/sqlite-store.js";
import { PostgresStore } from "./postgres/postgres-store.js";

export interface OpenStoreOptions {
  /** PostgreSQL: the schema longrun's tables live in. @default "longrun" */
  schema?: string;
  /** Apply pending schema migrations when opening. @default true */
  migrate?: boolean;
  log?: Logger;
}

/**
 * Opens the store a URL names: `postgres://…` / `postgresql://…` for PostgreSQL (many instances share it),
 * `sqlite:PATH` (or a bare path) for the embedded store (one process).
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(url)) {
    return PostgresStore.open({ connectionString: url, schema: options.schema, migrate: options.migrate, log: options.log });
  }
  return SqliteStore.open(sqlitePath(url));
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** The file of a `sqlite:PATH` URL (or bare path), absolute. */
export function sqlitePath(url: string): string {
  const path = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
  if (path === "") throw new Error(`No database file in store URL "${url}"`);
  return resolve(path);
}
