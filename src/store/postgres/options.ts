import type { Logger } from "../../core/logger.js";
import { createHash, randomBytes } from "node:crypto";
import type { ListenerErrorHandler } from "../shared/change-feed.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database?…`, as node-postgres reads it. */
  connectionString: string;
  /**
   * The PostgreSQL schema every object of the store lives in (created if missing). A plain lowercase
   * identifier. Instances share a store by naming the same database and schema. @default "longrun"
   */
  schema?: string | undefined;
  /** Apply pending migrations at open; when false, open fails unless the schema is up to date. @default true */
  migrate?: boolean | undefined;
  /** Connections in the pool, besides the one LISTEN connection. @default 10 */
  poolSize?: number | undefined;
  /**
   * Names this instance in the change notifications it sends, so it can skip its own echoes (it delivers
   * its own events in-process, at once). Unique per store instance. @default random
   */
  instanceId?: string | undefined;
  /** Told what a change listener threw (the write itself has committed). Default: logs through `log`. */
  onListenerError?: ListenerErrorHandler | undefined;
  /** Where the store reports what it survives (a lost connection, a reconnect). @default console.error */
  log?: Logger | undefined;
}

/** The options, checked and with defaults applied, plus what every statement derives from them. */
export interface CompiledOptions {
  connectionString: string;
  schema: string;
  /** `"schema"`, quoted for SQL text. */
  quotedSchema: string;
  /** `"schema".operations`, quoted for SQL text. */
  table: string;
  /** `"schema".outbox`, quoted for SQL text: completion notifications (migration 6). */
  outbox: string;
  /** The NOTIFY channel, `<schema>_changes`: at most 63 bytes, so PostgreSQL takes it unchanged. */
  channel: string;
  migrate: boolean;
  poolSize: number;
  instanceId: string;
  /** The application_name of the pool's connections; the LISTEN connection adds `-listener`. */
  applicationName: string;
  onListenerError: ListenerErrorHandler;
  log: Logger;
}

export const DEFAULT_SCHEMA = "longrun";

/**
 * A lowercase identifier that needs no quoting, short enough that `<schema>_changes` fits PostgreSQL's
 * 63-byte identifiers, and not in the `pg_` namespace PostgreSQL reserves.
 */
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

export function compileOptions(options: PostgresStoreOptions): CompiledOptions {
  const schema = checkSchema(options.schema ?? DEFAULT_SCHEMA);
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new TypeError(`poolSize must be a positive integer, not ${String(poolSize)}`);
  }
  const instanceId = options.instanceId ?? randomBytes(8).toString("base64url");
  // It travels in every notification payload (8000 bytes at most, ids included).
  if (instanceId.length === 0 || instanceId.length > 200) {
    throw new TypeError("instanceId must be 1 to 200 characters long");
  }
  const log = options.log ?? ((message: string, err?: unknown) => (err === undefined ? console.error(message) : console.error(message, err)));
  return {
    connectionString: options.connectionString,
    schema,
    quotedSchema: `"${schema}"`,
    table: `"${schema}".operations`,
    outbox: `"${schema}".outbox`,
    channel: `${schema}_changes`,
    migrate: options.migrate ?? true,
    poolSize,
    instanceId,
    applicationName: applicationNameOf(options.connectionString) ?? "longrun",
    onListenerError:
      options.onListenerError ?? ((error, event) => log(`longrun: a store change listener threw on "${event.kind}":`, error)),
    log,
  };
}

export function checkSchema(schema: string): string {
  if (!SCHEMA_PATTERN.test(schema) || schema.startsWith("pg_")) {
    throw new TypeError(
      `schema must be a lowercase identifier ([a-z_][a-z0-9_]*, at most 48 characters, not starting with pg_), ` +
        `not ${JSON.stringify(schema)}`,
    );
  }
  return schema;
}

/**
 * The name a prepared statement goes by on a connection: the statement, then the schema it was written
 * for — or, where that would pass PostgreSQL's 63 bytes, a digest of the schema.
 */
export function statementName(o: CompiledOptions, statement: string): string {
  const name = `longrun_${statement}:${o.schema}`;
  if (name.length <= MAX_IDENTIFIER_BYTES) return name;
  return `longrun_${statement}:${createHash("sha256").update(o.schema).digest("hex").slice(0, 16)}`;
}

const MAX_IDENTIFIER_BYTES = 63;

/** The application_name a connection string sets, if it is a URL that sets one. */
function applicationNameOf(connectionString: string): string | undefined {
  try {
    return new URL(connectionString).searchParams.get("application_name") ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The connection string with its application_name replaced, when it sets one (node-postgres lets the
 * string's parameters win over the config object's). Left as it is otherwise.
 */
export function withApplicationName(connectionString: string, name: string): string {
  try {
    const url = new URL(connectionString);
    if (!url.searchParams.has("application_name")) return connectionString;
    url.searchParams.set("application_name", name);
    return url.toString();
  } catch {
    return connectionString;
  }
}
