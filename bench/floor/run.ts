/**
 * The drain's floor: what the store alone does with the drain's work — N operations stored, then claimed
 * `batch` at a time and finished, through the Store API with no runtime, no handler and no change-feed
 * listener — beside longrun's own drain of the same N (bench/throughput/longrun-drain.ts, no-op handler,
 * the default 64 handlers). Each claim is written in the same turn as the finish of the batch before it,
 * as the runtime's best case (SQLite: one commit for both; PostgreSQL: both in flight at once). The floor
 * does what the drain must do at least, so the drain can approach it but not pass it; the peers do other
 * work (graphile-worker deletes its jobs), so they are compared in `throughput`, not here.
 *
 *   npm run bench -- floor [--stores sqlite,postgres] [--n 20000] [--batches 64,500]
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type { Store } from "../../src/index.js";
import { longrunStore, type LongrunConfig } from "../support/longrun-store.js";
import { appendJsonLines, machine, markdownTable, RESULTS_DIR, thousands } from "../support/measure.js";
import { longrunDrain, storeSleeps } from "../throughput/longrun-drain.js";

const METHOD = "longrun.demo.v1.Demo.Sleep";
const RESPONSE = { typeUrl: `type.googleapis.com/${SleepResponseSchema.typeName}`, value: new Uint8Array() };

/** What `npm run bench -- floor` was asked (bench/floor/index.ts declares the flags). */
export interface FloorArgs {
  stores: ("sqlite" | "postgres")[];
  n: number;
  batches: string[];
}

interface FloorResult {
  store: "sqlite" | "postgres";
  batch: number;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** This process's CPU (user + system) per operation; on PostgreSQL the server's backends come on top. */
  cpuMicrosPerJob: number;
}

export async function run(args: FloorArgs): Promise<void> {
  const batches = args.batches.map(Number);
  if (batches.some((b) => !Number.isInteger(b) || b < 1)) throw new Error(`--batches: positive integers, not ${args.batches.join(",")}`);
  const env = machine();
  const rows: string[][] = [];
  const records: object[] = [];
  for (const store of args.stores) {
    const floors: FloorResult[] = [];
    for (const batch of batches) {
      const result = await storeFloor(store, batch, args.n);
      console.log(`${store} floor, claims of ${batch}: ${thousands(result.jobsPerSecond)} jobs/s, ${result.cpuMicrosPerJob.toFixed(1)} µs CPU a job`);
      floors.push(result);
    }
    const config: LongrunConfig = { store, instances: 1, handler: "noop" };
    const spec = { id: `longrun-${store}`, label: `longrun, ${store}`, longrun: config };
    const drain = await longrunDrain(spec, config, args.n, undefined, false);
    console.log(`${store} longrun drain: ${thousands(drain.jobsPerSecond)} jobs/s`);
    const first = floors[0]!;
    rows.push([
      store === "sqlite" ? "SQLite" : "PostgreSQL",
      ...floors.map((f) => `${thousands(f.jobsPerSecond)} (${f.cpuMicrosPerJob.toFixed(0)} µs CPU a job)`),
      thousands(drain.jobsPerSecond),
      `${(drain.jobsPerSecond / first.jobsPerSecond).toFixed(2)}×`,
    ]);
    records.push({ time: new Date().toISOString(), ...env, store, n: args.n, floors, drainJobsPerSecond: drain.jobsPerSecond });
  }
  const header = ["store", ...batches.map((b) => `floor, claims of ${b}: jobs/s`), "longrun drain (64 handlers): jobs/s", `drain ÷ floor of ${batches[0]}`];
  const markdown =
    `## floor — the store's claim and finish alone, beside longrun's drain\n\n` +
    `${new Date().toISOString()}; sources at ${env.commit}; ${env.cpus} CPUs (${env.cpuModel}), Node ${env.node}; N = ${thousands(args.n)} per run. ` +
    `Floor: Store.claim of a batch and Store.finish of the batch before it in one turn, no runtime; CPU: this process's (PostgreSQL's backends not counted).\n\n` +
    markdownTable(header, rows);
  console.log(`\n${markdown}`);
  writeFileSync(join(RESULTS_DIR, "floor.md"), markdown);
  appendJsonLines("floor.jsonl", records);
  console.log(`written: ${join(RESULTS_DIR, "floor.{jsonl,md}")}`);
}

async function storeFloor(kind: "sqlite" | "postgres", batch: number, n: number): Promise<FloorResult> {
  const storage = await longrunStore({ store: kind, instances: 1 });
  try {
    await storeSleeps(storage, n);
    const store = await storage.open();
    try {
      const began = performance.now();
      const cpu = process.cpuUsage();
      const finished = await claimAndFinish(store, batch);
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - began) / 1000;
      if (finished !== n) throw new Error(`the floor finished ${finished} of ${n}`);
      return { store: kind, batch, jobs: n, seconds, jobsPerSecond: n / seconds, cpuMicrosPerJob: (used.user + used.system) / n };
    } finally {
      await store.close();
    }
  } finally {
    await storage.remove();
  }
}

/** Claims `batch` at a time until none is left, each claim asked in the same turn as the finish of the batch before. */
async function claimAndFinish(store: Store, batch: number): Promise<number> {
  let finished = 0;
  let finishing: Promise<unknown> = Promise.resolve();
  for (;;) {
    const now = Date.now();
    const [claimed] = await Promise.all([store.claim({ owner: "floor", methods: [METHOD], limit: batch, leaseMs: 30_000, now }), finishing]);
    if (claimed.length === 0) return finished;
    finishing = store.finish(
      claimed.map((op) => ({ id: op.id, attempt: op.attempt, response: RESPONSE })),
      86_400_000,
      now,
    );
    finished += claimed.length;
  }
}
