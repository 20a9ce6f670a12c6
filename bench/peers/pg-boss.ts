/** pg-boss as a peer: a fresh PostgreSQL schema, batches of 100, with or without LISTEN/NOTIFY. */
import { PgBoss } from "pg-boss";
import { freshSchema, type TestSchema } from "../../test/support/postgres.js";
import type { JobEvents, JobPayload, QueueSystem } from "./queue-system.js";

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
