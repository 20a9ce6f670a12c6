import type pg from "pg";
import type {
  ChangeListener,
  ClaimRequest,
  CreateResult,
  Fenced,
  FinishRequest,
  HeartbeatResult,
  ListQuery,
  NewOperation,
  OperationRecord,
  OperationView,
  ProgressUpdate,
  Store,
} from "../store.js";
import { ChangeFeed } from "../change-feed.js";
import { claim } from "./claim.js";
import { create, createdIds } from "./create.js";
import { clientConfig, createPool, poolDb, type Db } from "./db.js";
import { deleteOperations } from "./delete.js";
import { toStoreError } from "./errors.js";
import { finish } from "./finish.js";
import { get, getViews } from "./get.js";
import { heartbeat } from "./heartbeat.js";
import { explainList, list } from "./list.js";
import { Listener } from "./listener.js";
import { applyMigrations, checkVersion } from "./migrate.js";
import { nextDueTime } from "./next-due-time.js";
import { decodeNotification } from "./notify.js";
import { compileOptions, withApplicationName, type CompiledOptions, type PostgresStoreOptions } from "./options.js";
import { progress } from "./progress.js";
import { purgeExpired } from "./purge-expired.js";
import { release } from "./release.js";
import { requestCancel, requestControl } from "./operation-requests.js";

export type { PostgresStoreOptions } from "./options.js";

/**
 * The shared store: one PostgreSQL schema that any number of instances open at once. Every write call is
 * one statement whatever the number of operations it names (arrays in, `unnest`), and sends its change
 * notification from inside that statement, so other instances hear of it exactly when it commits; this
 * instance's own listeners hear of it at once, in-process. Connection failures surface as UNAVAILABLE
 * (errors.ts); the pool and the LISTEN connection recover by themselves once PostgreSQL is back.
 */
export class PostgresStore implements Store {
  readonly #options: CompiledOptions;
  readonly #pool: pg.Pool;
  readonly #db: Db;
  readonly #listener: Listener;
  readonly #feed: ChangeFeed;
  #closing: Promise<void> | undefined;

  private constructor(options: CompiledOptions, pool: pg.Pool) {
    this.#options = options;
    this.#pool = pool;
    this.#db = poolDb(options, pool);
    this.#feed = new ChangeFeed(options.onListenerError);
    const listenerName = `${options.applicationName}-listener`;
    this.#listener = new Listener({
      client: {
        ...clientConfig(options),
        connectionString: withApplicationName(options.connectionString, listenerName),
        application_name: listenerName,
      },
      channel: options.channel,
      onNotification: (payload) => {
        const event = decodeNotification(payload, options.instanceId);
        if (event !== undefined) this.#feed.emit(event.kind, event.ids);
      },
      onReconnect: () => this.#feed.emit("resync", []),
      log: options.log,
    });
  }

  /**
   * Connects, brings the schema up to date (or, with `migrate: false`, checks that it is), and starts
   * listening for other instances' changes.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const compiled = compileOptions(options);
    const pool = createPool(compiled);
    try {
      const client = await pool.connect();
      try {
        if (compiled.migrate) await applyMigrations(client, compiled.schema);
        else await checkVersion(client, compiled.schema);
      } finally {
        client.release();
      }
      const store = new PostgresStore(compiled, pool);
      await store.#listener.start();
      return store;
    } catch (error) {
      await pool.end().catch(() => {});
      throw toStoreError(error);
    }
  }

  /** Identifies this instance in the notifications it sends. */
  get instanceId(): string {
    return this.#options.instanceId;
  }

  async create(operations: readonly NewOperation[], now: number): Promise<CreateResult[]> {
    const results = await create(this.#db, operations, now);
    this.#feed.emit("created", createdIds(results));
    return results;
  }

  get(id: string, now: number): Promise<OperationRecord | undefined> {
    return get(this.#db, id, now);
  }

  getViews(ids: readonly string[], now: number): Promise<(OperationView | undefined)[]> {
    return getViews(this.#db, ids, now);
  }

  list(query: ListQuery): Promise<OperationRecord[]> {
    return list(this.#db, query);
  }

  /** The plan PostgreSQL picks for `list(query)`, as EXPLAIN prints it. */
  /** The plan of a list query; with `analyze`, EXPLAIN (ANALYZE, BUFFERS). For benchmarks and tests. */
  explainList(query: ListQuery, analyze = false): Promise<string> {
    return explainList(this.#db, query, analyze);
  }

  async delete(ids: readonly string[]): Promise<string[]> {
    const deleted = await deleteOperations(this.#db, ids);
    this.#feed.emit("deleted", deleted);
    return deleted;
  }

  async requestCancel(ids: readonly string[], now: number): Promise<(OperationRecord | undefined)[]> {
    const { records, marked } = await requestCancel(this.#db, ids, now);
    this.#feed.emit("cancel-requested", marked);
    return records;
  }

  async requestControl(ids: readonly string[], command: string, now: number): Promise<(OperationRecord | undefined)[]> {
    const { records, marked } = await requestControl(this.#db, ids, command, now);
    this.#feed.emit("control-requested", marked);
    return records;
  }

  claim(request: ClaimRequest): Promise<OperationRecord[]> {
    return claim(this.#db, request);
  }

  heartbeat(owner: string, leases: readonly Fenced[], leaseMs: number, now: number): Promise<HeartbeatResult[]> {
    return heartbeat(this.#db, owner, leases, leaseMs, now);
  }

  async progress(updates: readonly ProgressUpdate[], now: number): Promise<boolean[]> {
    const applied = await progress(this.#db, updates, now);
    this.#feed.emit("progress", appliedIds(updates, applied));
    return applied;
  }

  async finish(results: readonly FinishRequest[], retentionMs: number, now: number): Promise<boolean[]> {
    const applied = await finish(this.#db, results, retentionMs, now);
    this.#feed.emit("done", appliedIds(results, applied));
    return applied;
  }

  async release(owner: string, leases: readonly Fenced[], runAfter: number, now: number): Promise<void> {
    const released = await release(this.#db, owner, leases, runAfter, now);
    this.#feed.emit("released", released);
  }

  nextDueTime(methods: readonly string[], now: number): Promise<number | undefined> {
    return nextDueTime(this.#db, methods, now);
  }

  purgeExpired(now: number): Promise<number> {
    // Not announced: expired operations are already invisible to every reader.
    return purgeExpired(this.#db, now);
  }

  subscribe(listener: ChangeListener): () => void {
    return this.#feed.subscribe(listener);
  }

  /** Ends the LISTEN connection and the pool (waiting for queries in flight). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#feed.clear();
      await this.#listener.close();
      await this.#pool.end();
    })();
    return this.#closing;
  }
}

/** The ids of the requests applied, each once, in input order. */
function appliedIds(requests: readonly { id: string }[], applied: readonly boolean[]): string[] {
  return [...new Set(requests.filter((_, i) => applied[i] === true).map((r) => r.id))];
}
