/** BullMQ as a peer: a fresh queue on the machine's Redis, with or without an fsync per write. */
import { randomBytes } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { TASK, type JobEvents, type JobPayload, type QueueSystem } from "./queue-system.js";

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
