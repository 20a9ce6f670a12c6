/** graphile-worker as a peer: a fresh PostgreSQL schema, its documented settings. */
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import { freshSchema, type TestSchema } from "../../test/support/postgres.js";
import { keyOf, TASK, type JobEvents, type QueueSystem } from "./queue-system.js";

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
