import type pg from "pg";
import type { ListQuery } from "../store.js";
import { ChangeFeed } from "../shared/change-feed.js";
import type { StoreDriver } from "../shared/driver.js";
import { StoreCore } from "../shared/store-core.js";
import { claim } from "./claim.js";
import { create } from "./create.js";
import { FirstStatistics } from "./first-statistics.js";
import { clientConfig, createPool, poolDb, type Db } from "./db.js";
import { deleteOperations } from "./delete.js";
import { toStoreError } from "./errors.js";
import { finish } from "./finish.js";
import { get, getViews } from "./get.js";
import { heartbeat } from "./heartbeat.js";
import { explainList, list } from "./list.js";
import { claimEvents } from "./claim-events.js";
import { settleEvents } from "./settle-events.js";
import { appendEvents } from "./append-events.js";
import { deleteEvents, listEvents, nextEventDueTime, retryEvents } from "./outbox-admin.js";
import { Listener } from "./listener.js";
import { expireDeadLeases } from "./expire-dead-leases.js";
import { Instances } from "./instances.js";
import { applyMigrations, checkVersion } from "./migrate.js";
import { nextDueTime } from "./next-due-time.js";
import { decodeNotification } from "./notify.js";
import { compileOptions, withApplicationName, type CompiledOptions, type PostgresStoreOptions } from "./options.js";
import { progress } from "./progress.js";
import { purgeExpired } from "./purge-expired.js";
import { activity } from "./activity.js";
import { release } from "./release.js";
import { retryLater } from "./retry-later.js";
import { counts } from "./counts.js";
import { stateCounts } from "./state-counts.js";
import { requestCancel, requestControl } from "./operation-requests.js";

export type { PostgresStoreOptions } from "./options.js";

/**
 * The shared store: one PostgreSQL schema that any number of instances open at once. Every write call is
 * one statement whatever the number of operations it names (arrays in, `unnest`), and sends its change
 * notification from inside that statement, so other instances hear of it exactly when it commits; this
 * instance's own listeners hear of it at once, in-process (StoreCore). Connection failures surface as
 * UNAVAILABLE (errors.ts); the pool and the LISTEN connection recover by themselves once PostgreSQL is back.
 */
export class PostgresStore extends StoreCore {
  readonly #options: CompiledOptions;
  readonly #db: Db;
  readonly #listener: Listener;

  private constructor(options: CompiledOptions, pool: pg.Pool) {
    const db = poolDb(options, pool);
    const feed = new ChangeFeed(options.onListenerError);
    const listenerName = `${options.applicationName}-listener`;
    const instances = new Instances(options);
    const listener = new Listener({
      client: {
        ...clientConfig(options),
        connectionString: withApplicationName(options.connectionString, listenerName),
        application_name: listenerName,
      },
      channel: options.channel,
      onNotification: (payload) => {
        const event = decodeNotification(payload, options.instanceId);
        if (event !== undefined) feed.emit(event.kind, event.ids);
      },
      onReconnect: () => feed.emit("resync", []),
      onConnect: (client) => instances.connected(client),
      log: options.log,
    });
    super(postgresDriver(db, pool, listener, instances), feed, true);
    this.#options = options;
    this.#db = db;
    this.#listener = listener;
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

  /** The plan of a list query; with `analyze`, EXPLAIN (ANALYZE, BUFFERS). For benchmarks and tests. */
  explainList(query: ListQuery, analyze = false): Promise<string> {
    return explainList(this.#db, query, analyze);
  }
}

/** This store's statements (one file each), over the pool; closing ends the LISTEN connection, then the pool. */
function postgresDriver(db: Db, pool: pg.Pool, listener: Listener, instances: Instances): StoreDriver {
  const statistics = new FirstStatistics(db, db.options.log);
  return {
    create: async (operations, now) => {
      const created = await create(db, operations, now);
      statistics.created(operations.length);
      return created;
    },
    get: (id, now) => get(db, id, now),
    getViews: (ids, now) => getViews(db, ids, now),
    list: (query) => list(db, query),
    delete: (ids) => deleteOperations(db, ids),
    requestCancel: (operations, now) => requestCancel(db, operations, now),
    requestControl: (operations, command, now) => requestControl(db, operations, command, now),
    claim: (request) => {
      // Registered before its first lease exists, so no lease of a live owner looks dead.
      const registering = instances.ensure(request.owner);
      return registering === undefined ? claim(db, pool, request) : registering.then(() => claim(db, pool, request));
    },
    heartbeat: (owner, leases, leaseMs, now) => heartbeat(db, owner, leases, leaseMs, now),
    progress: (updates, now) => progress(db, updates, now),
    finish: (results, retentionMs, now) => finish(db, results, retentionMs, now),
    release: (owner, leases, runAfter, now) => release(db, owner, leases, runAfter, now),
    retryLater: (owner, retries, now) => retryLater(db, owner, retries, now),
    nextDueTime: (methods, now) => nextDueTime(db, methods, now),
    purgeExpired: (now) => purgeExpired(db, now),
    expireDeadLeases: (now) => expireDeadLeases(db, now),
    activity: (query) => activity(db, query),
    claimEvents: (claim) => claimEvents(db, claim),
    settleEvents: (settlements, now) => settleEvents(db, settlements, now),
    listEvents: (query) => listEvents(db, query),
    appendEvents: (events, now) => appendEvents(db, events, now),
    retryEvents: (ids, now) => retryEvents(db, ids, now),
    deleteEvents: (ids) => deleteEvents(db, ids),
    nextEventDueTime: (destinations, now) => nextEventDueTime(db, destinations, now),
    counts: (now, done) => counts(db, now, done),
    stateCounts: (query) => stateCounts(db, query),
    async close() {
      await statistics.settled();
      await listener.close();
      await pool.end();
    },
  };
}
