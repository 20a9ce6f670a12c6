import pg from "pg";
import type { QueryResultRow } from "pg";
import type { CompiledOptions } from "./options.js";
import { statementName } from "./options.js";
import { TYPES } from "./rows.js";
import { toStoreError } from "./errors.js";

/** What every statement function runs with: the compiled options and the pool, behind one query call. */
export interface Db {
  readonly options: CompiledOptions;
  /**
   * Runs one statement as a named prepared statement (parsed once per connection), or, with `statement`
   * undefined, as an unnamed one (parsed each time: for texts that vary, such as filtered lists, which
   * must not pile up prepared statements on every connection). Connection-class failures come out as
   * UNAVAILABLE (see errors.ts).
   */
  query<R extends QueryResultRow>(statement: string | undefined, text: string, values: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

/** How long to wait for a connection (from the pool, or a new one) before answering UNAVAILABLE. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** The client settings every connection of the store shares. */
export function clientConfig(o: CompiledOptions): pg.ClientConfig {
  return {
    connectionString: o.connectionString,
    application_name: o.applicationName,
    types: TYPES,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  };
}

export function createPool(o: CompiledOptions): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(o), max: o.poolSize, idleTimeoutMillis: 30_000 });
  // An idle connection that dies (server restart, pg_terminate_backend) is reported here and dropped by
  // the pool; without a handler it would crash the process. The next checkout opens a new one.
  pool.on("error", (error) => o.log(`longrun: an idle PostgreSQL connection of the store failed (the pool replaces it): ${error.message}`));
  return pool;
}

export function poolDb(options: CompiledOptions, pool: pg.Pool): Db {
  return queryingDb(options, pool);
}

/** Statements on one connection of their own (the LISTEN connection: its session is the instance's life). */
export function clientDb(options: CompiledOptions, client: pg.ClientBase): Db {
  return queryingDb(options, client);
}

function queryingDb(options: CompiledOptions, pool: pg.Pool | pg.ClientBase): Db {
  const names = new Map<string, string>();
  return {
    options,
    async query<R extends QueryResultRow>(statement: string | undefined, text: string, values: readonly unknown[]) {
      let name: string | undefined;
      if (statement !== undefined) {
        name = names.get(statement);
        if (name === undefined) names.set(statement, (name = statementName(options, statement)));
      }
      try {
        return await pool.query<R>(name === undefined ? { text, values: values as unknown[] } : { name, text, values: values as unknown[] });
      } catch (error) {
        throw toStoreError(error);
      }
    },
  };
}
