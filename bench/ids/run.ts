/**
 * The SQLite store's writes per row with random and with time-ordered operation ids: `rows` operations
 * created, claimed, finished and read back `batch` at a time through the store's driver (its statements
 * and transactions, none of the runtime), on a file at `synchronous = NORMAL` so that the disk's fsyncs do
 * not blur the CPU each statement costs. The two kinds of id take turns, each run on a fresh file.
 *
 * Why it matters: the table keeps every operation for its retention, and the index of ids with it. A
 * random id puts each new entry at a random place in that index, so a commit rewrites one index page per
 * operation created (SQLite writes whole pages to the WAL); time-ordered ids append to the index's end.
 *
 *   npm run bench -- ids [--rows 40000] [--batch 64] [--rounds 2]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newOperationId } from "../../src/core/ids.js";
import { SqliteDriver } from "../../src/store/sqlite/driver.js";
import { openDatabase } from "../../src/store/sqlite/open.js";
import type { ClaimRequest, FinishRequest, NewOperation } from "../../src/store/store.js";
import { appendJsonLines, machine, markdownTable, median, RESULTS_DIR, thousands } from "../support/measure.js";

export interface IdsArgs {
  rows: number;
  batch: number;
  rounds: number;
}

type IdKind = "random" | "time-ordered";
const STEPS = ["create", "claim", "finish", "read"] as const;
type Step = (typeof STEPS)[number];

const METHOD = "longrun.demo.v1.Demo.Sleep";
const REQUEST = new Uint8Array([8, 0]);
const METADATA = { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepMetadata", value: new Uint8Array(20), json: '{"progressPercent":0}' };
const RESPONSE = { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepResponse", value: new Uint8Array(4) };

/** Microseconds per row of each step, for `rows` rows made with ids of `kind`. */
function measure(kind: IdKind, rows: number, batch: number): Record<Step, number> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-ids-"));
  const db = openDatabase(join(dir, "ids.db"), { synchronous: "NORMAL" });
  const driver = new SqliteDriver(db);
  const spent: Record<Step, number> = { create: 0, claim: 0, finish: 0, read: 0 };
  let now = Date.now();
  try {
    for (let done = 0; done < rows; done += batch) {
      now++;
      const operations = Array.from({ length: Math.min(batch, rows - done) }, (): NewOperation => {
        const id = kind === "random" ? randomBytes(16).toString("base64url") : newOperationId(now);
        return { id, name: `operations/${id}`, parent: "", method: METHOD, requestId: undefined, request: REQUEST, metadata: METADATA, runAfter: now };
      });
      let started = performance.now();
      driver.create(operations, now);
      spent.create += performance.now() - started;
      started = performance.now();
      const claim: ClaimRequest = { owner: "bench", methods: [METHOD], limit: operations.length, now, leaseMs: 30_000 };
      const claimed = driver.claim(claim);
      spent.claim += performance.now() - started;
      started = performance.now();
      driver.finish(claimed.map((record): FinishRequest => ({ id: record.id, attempt: record.attempt, response: RESPONSE })), 86_400_000, now);
      spent.finish += performance.now() - started;
      started = performance.now();
      driver.getViews(operations.map((op) => op.id), now);
      spent.read += performance.now() - started;
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(STEPS.map((step) => [step, (spent[step] * 1000) / rows])) as Record<Step, number>;
}

export async function run(args: IdsArgs): Promise<void> {
  const runs: { kind: IdKind; round: number; micros: Record<Step, number> }[] = [];
  for (let round = 1; round <= args.rounds; round++) {
    // Turns flip from round to round, so that a change in the machine's load falls on both.
    const order: IdKind[] = round % 2 === 1 ? ["random", "time-ordered"] : ["time-ordered", "random"];
    for (const kind of order) {
      const micros = measure(kind, args.rows, args.batch);
      runs.push({ kind, round, micros });
      console.error(`${kind} round ${round}: ${STEPS.map((s) => `${s} ${micros[s].toFixed(1)} µs`).join(", ")}`);
    }
  }
  const of = (kind: IdKind, step: Step | "all"): number =>
    median(runs.filter((r) => r.kind === kind).map((r) => (step === "all" ? STEPS.reduce((sum, s) => sum + r.micros[s], 0) : r.micros[step])));
  const rows = [...STEPS, "all" as const].map((step) => [
    step === "all" ? "**all four**" : step,
    `${of("random", step).toFixed(1)} µs`,
    `${of("time-ordered", step).toFixed(1)} µs`,
    `${(of("random", step) / of("time-ordered", step)).toFixed(2)}×`,
  ]);
  const when = new Date().toISOString();
  const env = machine();
  const markdown = [
    "## ids — the SQLite store's writes per row, random against time-ordered operation ids",
    "",
    `${when}; sources at ${env.commit}; ${env.cpus} CPUs (${env.cpuModel}), Node ${env.node}. ${thousands(args.rows)} operations a run, ${args.batch} a statement batch, ${args.rounds} run(s) of each kind taking turns (medians); SQLite at synchronous = NORMAL, through the store's driver.`,
    "",
    markdownTable(["step", "random ids", "time-ordered ids", "random ÷ time-ordered"], rows),
    "",
  ].join("\n");
  console.log(markdown);
  writeFileSync(join(RESULTS_DIR, "ids.md"), markdown);
  appendJsonLines("ids.jsonl", runs.map((r) => ({ when, rows: args.rows, batch: args.batch, ...r })));
}
