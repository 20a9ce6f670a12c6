/**
 * The job queues longrun is compared with, behind one interface, each set up as its documentation
 * recommends for the configuration named: graphile-worker and pg-boss on the machine's PostgreSQL (a fresh
 * schema each), BullMQ on the machine's Redis (a fresh queue each). Jobs carry a numeric `key`; the
 * handler does nothing but report it.
 */
export type { JobEvents, JobPayload, QueueSystem } from "./queue-system.js";
export { GraphileWorkerSystem, GRAPHILE_BATCHING_PRESET } from "./graphile-worker.js";
export { PgBossSystem } from "./pg-boss.js";
export { BullMqSystem } from "./bullmq.js";
