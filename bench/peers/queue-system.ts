/** What every peer offers the benchmarks: one interface over a job queue, and the job they all run. */
import type { TestSchema } from "../../test/support/postgres.js";

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

export function keyOf(payload: unknown): number {
  const key = (payload as Partial<JobPayload> | null)?.key;
  if (typeof key !== "number") throw new Error(`job payload without a numeric key: ${JSON.stringify(payload)}`);
  return key;
}

/** The one task every peer runs: it does nothing but report its key. */
export const TASK = "noop";
