/**
 * The job queues longrun is compared with, behind one interface, each set up as its documentation
 * recommends for the configuration named: graphile-worker and pg-boss on the machine's PostgreSQL (a fresh
 * schema each), BullMQ on the machine's Redis (a fresh queue each). Jobs carry a numeric `key`; the
 * handler does nothing but report it.
 */
import { randomBytes } from "node:crypto";
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import { PgBoss } from "pg-boss";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { freshSchema, type TestSchema } from "../../test/support/postgres.js";

/** What a handler reports, so the benchmark can time a job and await it in the same process. */
export interface JobEvents {
  /** The handler began running the job. */
  started(key: number): void;
  /** The job is done, as far as the system lets the process that ran it see (see `QueueSystem.doneMeans`). */
  finished(key: number): void;
}

export interface QueueSystem {
  readonly id: string;
  readonly label: string;
  /** Handlers running at once (or jobs per batch), as configured, for the notes. */
  readonly concurrency: string;
  /** The moment `JobEvents.finished` fires, for the notes: what "awaited until done" means here. */
  readonly doneMeans: string;
  /** The PostgreSQL schema it lives in, once set up (undefined on Redis): commits are counted there. */
  readonly db: TestSchema | undefined;
  setUp(): Promise<void>;
  /** Stores jobs in one call (the system's bulk API), with no worker running. */
  enqueueBulk(keys: readonly number[]): Promise<void>;
  /** Starts the workers, in this process. */
  startWorkers(events: JobEvents): Promise<void>;
  /** Stores one job, as a single producer call. */
  enqueue(key: number): Promise<void>;
  /** Whether any job is not done yet, as the system's store says. One cheap query. */
  anyLeft(): Promise<boolean>;
  tearDown(): Promise<void>;
}

export interface JobPayload {
  key: number;
}

function keyOf(payload: unknown): number {
  const key = (payload as Partial<JobPayload> | null)?.key;
  if (typeof key !== "number") throw new Error(`job payload without a numeric key: ${JSON.stringify(payload)}`);
  return key;
}

const TASK = "noop";

/** graphile-worker logs a line per completed job by default; a benchmark keeps warnings and errors only. */
const quietGraphileLogger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`graphile-worker ${level}: ${message}`);
});

/**
 * graphile-worker: jobs in `_private_jobs`, taken with one query per job (or per `localQueue.size` jobs with
 * the batching preset), deleted when completed; new jobs wake workers through LISTEN/NOTIFY. Its library
 * default is one job at a time; the benchmark sets the concurrency.
 */
export class GraphileWorkerSystem implements QueueSystem {
  readonly doneMeans =
    "the task function returned (graphile-worker deletes the job afterwards, not awaited by the worker: there is no completion event after the commit)";
  db: TestSchema | undefined;
  private utils: WorkerUtils | undefined;
  private runner: Runner | undefined;

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly concurrencyJobs: number,
    private readonly preset: GraphileConfig.Preset | undefined,
  ) {}

  get concurrency(): string {
    return `${this.concurrencyJobs} jobs${this.preset ? ", localQueue 500, completeJobBatchDelay 0, failJobBatchDelay 0" : ""}`;
  }

  private get schema(): TestSchema {
    if (!this.db) throw new Error(`${this.id} is not set up`);
    return this.db;
  }

  async setUp(): Promise<void> {
    this.db = await freshSchema("gw_bench");
    this.utils = await makeWorkerUtils({ connectionString: this.db.url, schema: this.db.schema, logger: quietGraphileLogger });
    await this.utils.migrate();
  }

  async enqueueBulk(keys: readonly number[]): Promise<void> {
    await this.utils!.addJobs(keys.map((key) => ({ identifier: TASK, payload: { key } })));
  }

  async startWorkers(events: JobEvents): Promise<void> {
    const db = this.schema;
    this.runner = await run({
      connectionString: db.url,
      schema: db.schema,
      concurrency: this.concurrencyJobs,
      noHandleSignals: true,
      logger: quietGraphileLogger,
      ...(this.preset ? { preset: this.preset } : {}),
      taskList: {
        [TASK]: async (payload) => {
          const key = keyOf(payload);
          events.started(key);
          events.finished(key);
        },
      },
    });
  }

  async enqueue(key: number): Promise<void> {
    await this.utils!.addJob(TASK, { key });
  }

  async anyLeft(): Promise<boolean> {
    const db = this.schema;
    const { rows } = await db.admin.query<{ left: boolean }>(`SELECT EXISTS (SELECT 1 FROM "${db.schema}"._private_jobs) AS left`);
    return rows[0]?.left ?? true;
  }

  async tearDown(): Promise<void> {
    await this.runner?.stop();
    await this.utils?.release();
    await this.db?.drop();
  }
}

/** The batching preset graphile-worker's performance guide documents (https://worker.graphile.org/docs/performance). */
export const GRAPHILE_BATCHING_PRESET: GraphileConfig.Preset = {
  worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 },
};

/**
 * pg-boss: jobs fetched `batchSize` at a time by polling every `pollingIntervalSeconds` (continuously while
 * batches come back full), completed by one statement per batch; with `notify`, job creation also sends a
 * NOTIFY that wakes the worker at once.
 */
export class PgBossSystem implements QueueSystem {
  readonly doneMeans = "the batch handler returned (pg-boss then completes the batch; it offers no per-job completion event)";
  db: TestSchema | undefined;
  private boss: PgBoss | undefined;
  private static readonly QUEUE = "noop";
  private static readonly BATCH = 100;
  private static readonly POLL_SECONDS = 0.5;

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly notify: boolean,
  ) {}

  get concurrency(): string {
    return `batchSize ${PgBossSystem.BATCH}, 1 worker, polling ${PgBossSystem.POLL_SECONDS} s, burstWhenBatchFull${this.notify ? ", LISTEN/NOTIFY" : ""}`;
  }

  private get started(): { boss: PgBoss; db: TestSchema } {
    if (!this.boss || !this.db) throw new Error(`${this.id} is not set up`);
    return { boss: this.boss, db: this.db };
  }

  async setUp(): Promise<void> {
    this.db = await freshSchema("pgb_bench");
    this.boss = new PgBoss({ connectionString: this.db.url, schema: this.db.schema, useListenNotify: this.notify });
    this.boss.on("error", (err: unknown) => console.error("pg-boss error:", err));
    await this.boss.start();
    await this.boss.createQueue(PgBossSystem.QUEUE, { notify: this.notify });
  }

  async enqueueBulk(keys: readonly number[]): Promise<void> {
    await this.started.boss.insert(PgBossSystem.QUEUE, keys.map((key) => ({ data: { key } })));
  }

  async startWorkers(events: JobEvents): Promise<void> {
    await this.started.boss.work<JobPayload>(
      PgBossSystem.QUEUE,
      {
        batchSize: PgBossSystem.BATCH,
        pollingIntervalSeconds: PgBossSystem.POLL_SECONDS,
        // The same polling while NOTIFY is active (its default backstop is 30 s): NOTIFY is then the only difference.
        notifyPollingIntervalSeconds: PgBossSystem.POLL_SECONDS,
        burstWhenBatchFull: true,
      },
      async (jobs) => {
        for (const job of jobs) events.started(job.data.key);
        for (const job of jobs) events.finished(job.data.key);
      },
    );
  }

  async enqueue(key: number): Promise<void> {
    await this.started.boss.send(PgBossSystem.QUEUE, { key });
  }

  async anyLeft(): Promise<boolean> {
    const { db } = this.started;
    const { rows } = await db.admin.query<{ left: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM "${db.schema}".job WHERE name = $1 AND state < 'completed') AS left`,
      [PgBossSystem.QUEUE],
    );
    return rows[0]?.left ?? true;
  }

  async tearDown(): Promise<void> {
    await this.boss?.stop({ graceful: true, close: true, timeout: 10_000 });
    await this.db?.drop();
  }
}

const REDIS = { host: "127.0.0.1", port: 6379, maxRetriesPerRequest: null } as const;

/**
 * BullMQ on Redis: each job added by a Lua script, taken by a worker's blocking pop, completed by another
 * script. Redis here keeps everything in memory unless `appendFsyncAlways` turns on its append-only file
 * with an fsync per write (restored when the run ends).
 */
export class BullMqSystem implements QueueSystem {
  readonly doneMeans = "the Worker's 'completed' event (emitted once Redis has moved the job to completed)";
  readonly db = undefined;
  private readonly queueName = `bench-${randomBytes(4).toString("hex")}`;
  private readonly clients: Redis[] = [];
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  /** The connection that changed Redis's configuration, and what to set back at the end. */
  private admin: Redis | undefined;
  private restoreConfig: [parameter: string, value: string][] = [];

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly workerConcurrency: number,
    private readonly appendFsyncAlways: boolean,
  ) {}

  get concurrency(): string {
    return `${this.workerConcurrency} jobs${this.appendFsyncAlways ? ", appendonly yes, appendfsync always" : ""}`;
  }

  /**
   * A new connection for BullMQ's `connection` option. An instance rather than options: BullMQ's ESM build
   * cannot `require` ioredis itself to make one.
   */
  private connection(): Redis {
    const client = new Redis(REDIS);
    this.clients.push(client);
    return client;
  }

  async setUp(): Promise<void> {
    this.queue = new Queue(this.queueName, { connection: this.connection() });
    await this.queue.waitUntilReady();
    if (this.appendFsyncAlways) await this.turnOnAppendFsyncAlways();
  }

  private async turnOnAppendFsyncAlways(): Promise<void> {
    const admin = (this.admin = new Redis(REDIS));
    this.clients.push(admin);
    for (const parameter of ["appendonly", "appendfsync"]) {
      const reply = await admin.config("GET", parameter); // [parameter, value]
      const value = Array.isArray(reply) ? reply[1] : undefined;
      if (typeof value === "string") this.restoreConfig.push([parameter, value]);
    }
    await admin.config("SET", "appendonly", "yes");
    await admin.config("SET", "appendfsync", "always");
    // Turning the AOF on rewrites it in the background first: measure once that is over.
    for (;;) {
      const info = await admin.info("persistence");
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async enqueueBulk(keys: readonly number[]): Promise<void> {
    await this.queue!.addBulk(keys.map((key) => ({ name: TASK, data: { key } })));
  }

  async startWorkers(events: JobEvents): Promise<void> {
    const worker = new Worker<JobPayload>(
      this.queueName,
      async (job) => {
        events.started(job.data.key);
      },
      { connection: this.connection(), concurrency: this.workerConcurrency },
    );
    worker.on("completed", (job) => events.finished(job.data.key));
    worker.on("error", (err) => console.error("BullMQ worker error:", err));
    this.worker = worker;
    await worker.waitUntilReady();
  }

  async enqueue(key: number): Promise<void> {
    await this.queue!.add(TASK, { key });
  }

  async anyLeft(): Promise<boolean> {
    const counts = await this.queue!.getJobCounts("waiting", "active", "delayed", "prioritized");
    return Object.values(counts).some((count) => count > 0);
  }

  async tearDown(): Promise<void> {
    await this.worker?.close();
    if (this.queue) {
      await this.queue.obliterate({ force: true });
      await this.queue.close();
    }
    // appendfsync first: with appendonly still on, it stops the fsync per write at once.
    for (const [parameter, value] of [...this.restoreConfig].reverse()) await this.admin?.config("SET", parameter, value);
    for (const client of this.clients) await client.quit().catch(() => undefined);
  }
}
