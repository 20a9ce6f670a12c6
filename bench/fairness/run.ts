/**
 * Fair queuing against one tenant's backlog (issue 21): in this process, a Runtime on a fresh store
 * serving Demo/Sleep with a handler that only returns, at `--concurrency` handlers. Tenant A starts `--a`
 * operations (batches of 1,000, as fast as the store takes them), then tenant B starts `--b`, while the
 * worker drains. Measured: each B operation's completion latency (its finish's change event − its start's
 * return), and the drain rate (all operations ÷ the time from the first start to the last finish). The
 * variants take turns in every round: **off** (no fairness, no limit: claims in due-time order, B behind
 * all of A; the instance runs `--concurrency`), **fair** (the method's `fairness`, keyed by tenant,
 * `--quantum`), **limit** (fair, and `concurrency: { limit: --concurrency }` on an instance running twice
 * that, so the method's limit is what holds) and **perkey** (fair, and `concurrency: { limit, perKey: limit ÷
 * 2 }`, keyed by the default key, the parent `projects/{tenant}`: A never holds more than half the slots). Each variant's drain is compared with off's.
 *
 *   npm run bench -- fairness [--a 50000] [--b 100] [--concurrency 64] [--variants off,fair,limit,perkey] [--repeat 2] [--store sqlite|postgres] [--quantum 10]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import pg from "pg";
import { buildRegistry } from "../../src/core/registry.js";
import { OperationNames } from "../../src/core/names.js";
import { Demo, SleepMetadataSchema, SleepRequestSchema, SleepResponseSchema, type SleepRequest } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { defineMethod, type MethodDeclaration } from "../../src/runtime/methods.js";
import { Runtime } from "../../src/runtime/runtime.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { appendJsonLines, machine, markdownTable, median, percentile, RESULTS_DIR } from "../support/measure.js";
import { serverSource } from "../support/server-process.js";
import { sourceText } from "../support/measure.js";
import { writeFileSync } from "node:fs";

export interface FairnessArgs {
  a: number;
  b: number;
  concurrency: number;
  repeat: number;
  store: "sqlite" | "postgres";
  quantum: number;
  variants: Variant[];
}

type Variant = "off" | "fair" | "limit" | "perkey";
const LABELS: Record<Variant, (args: FairnessArgs) => string> = {
  off: (a) => `off (due-time order, instance ${a.concurrency})`,
  fair: (a) => `fair (quantum ${a.quantum} ms, instance ${a.concurrency})`,
  limit: (a) => `fair + concurrency.limit ${a.concurrency} (instance ${2 * a.concurrency})`,
  perkey: (a) => `fair + concurrency.limit ${a.concurrency}, perKey ${Math.max(1, a.concurrency >> 1)} (instance ${2 * a.concurrency})`,
};
const SLEEP = "longrun.demo.v1.Demo.Sleep";
const POSTGRES_URL = process.env.LONGRUN_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";
const GOAL_P99_MS = 1000;
const GOAL_RATIO = 0.8;

interface Result {
  variant: Variant;
  round: number;
  bLatencies: number[];
  drainPerSecond: number;
  aEnqueueMs: number;
}

/** The tenant is the first letter of the request id: `a-…` or `b-…`. */
const tenantOf = (request: SleepRequest): string => request.requestId.slice(0, 1);

function method(variant: Variant, args: FairnessArgs): MethodDeclaration {
  const fair = { fairness: { key: tenantOf, quantumMs: args.quantum } };
  const scheduling =
    variant === "fair" ? fair
    : variant === "limit" ? { ...fair, concurrency: { limit: args.concurrency } }
    : variant === "perkey" ? { parent: (request: SleepRequest) => `projects/${tenantOf(request)}`, fairness: { quantumMs: args.quantum }, concurrency: { limit: args.concurrency, perKey: Math.max(1, args.concurrency >> 1) } }
    : {};
  return defineMethod({
    method: Demo.method.sleep,
    response: SleepResponseSchema,
    metadata: SleepMetadataSchema,
    handler: async () => ({}),
    ...scheduling,
  }) as MethodDeclaration;
}

async function openStore(kind: "sqlite" | "postgres"): Promise<{ store: Store; remove(): Promise<void> }> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "longrun-bench-fairness-"));
    const store = SqliteStore.open(join(dir, "fairness.db"));
    return { store, remove: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `bench_fair_${randomBytes(4).toString("hex")}`;
  const store = await PostgresStore.open({ connectionString: POSTGRES_URL, schema, log: () => {} });
  return {
    store,
    remove: async () => {
      await store.close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

async function once(variant: Variant, round: number, args: FairnessArgs): Promise<Result> {
  const { store, remove } = await openStore(args.store);
  const limited = variant === "limit" || variant === "perkey";
  const runtime = new Runtime({ store, registry: buildRegistry([Demo.file]), methods: [method(variant, args)],
    // perkey keys by the default key, the operation's parent: each tenant's operations under projects/{tenant}.
    names: variant === "perkey" ? new OperationNames({ parent: "projects/*" }) : undefined, concurrency: limited ? 2 * args.concurrency : args.concurrency, log: () => {} });
  const doneAt = new Map<string, number>();
  const total = args.a + args.b;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const unsubscribe = store.subscribe((event) => {
    if (event.kind !== "done") return;
    const now = performance.now();
    for (const id of event.ids) doneAt.set(id, now);
    if (doneAt.size >= total) allDone();
  });
  try {
    runtime.start();
    const began = performance.now();
    const run = randomBytes(3).toString("hex");
    for (let i = 0; i < args.a; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, args.a - i) }, (_, k) => create(SleepRequestSchema, { requestId: `a-${run}-${i + k}` }));
      await runtime.startOperations(SLEEP, batch);
    }
    const aEnqueueMs = performance.now() - began;
    const bStarted = performance.now();
    const bOps = await runtime.startOperations(SLEEP, Array.from({ length: args.b }, (_, k) => create(SleepRequestSchema, { requestId: `b-${run}-${k}` })));
    await Promise.race([finished, new Promise((_, reject) => setTimeout(() => reject(new Error(`${variant}: not all done after 10 min`)), 600_000).unref())]);
    const end = Math.max(...doneAt.values());
    const bLatencies = bOps.map((op) => (doneAt.get(op.id) ?? Number.NaN) - bStarted);
    return { variant, round, bLatencies, drainPerSecond: (1000 * total) / (end - began), aEnqueueMs };
  } finally {
    unsubscribe();
    await runtime.stop(1000);
    await remove();
  }
}

export async function run(args: FairnessArgs): Promise<void> {
  const source = serverSource();
  const results: Result[] = [];
  for (let round = 1; round <= args.repeat; round++) {
    const order: Variant[] = round % 2 === 1 ? [...args.variants] : [...args.variants].reverse();
    for (const variant of order) {
      const r = await once(variant, round, args);
      results.push(r);
      console.log(`round ${round} ${variant}: tenant B p50 ${ms(percentile(r.bLatencies, 0.5))} p99 ${ms(percentile(r.bLatencies, 0.99))}, drain ${Math.round(r.drainPerSecond)} ops/s (A enqueued in ${ms(r.aEnqueueMs)})`);
    }
  }
  const of = (v: Variant) => results.filter((r) => r.variant === v);
  const p99 = (v: Variant) => median(of(v).map((r) => percentile(r.bLatencies, 0.99)));
  const p50 = (v: Variant) => median(of(v).map((r) => percentile(r.bLatencies, 0.5)));
  const drain = (v: Variant) => median(of(v).map((r) => r.drainPerSecond));
  const ratio = (v: Variant) => drain(v) / drain("off");
  const measured = args.variants;
  const host = machine();
  const date = new Date().toISOString();
  console.log(`\n${measured.map((v) => `${v}: tenant B p99 ${Math.round(p99(v))} ms, drain ${ratio(v).toFixed(2)}× off`).join("; ")}`);
  const markdown = [
    `## fairness — one tenant's backlog, another's few, ${args.store}`,
    "",
    `${date}; ${host.cpus} CPUs (${host.cpuModel}), Node ${host.node}; sources ${sourceText(source)}. In one process: a Runtime on a fresh ${args.store} store, ${args.concurrency} handlers running at once (see the variant); tenant A starts ${args.a.toLocaleString("en")}, then tenant B ${args.b}; handlers only return. ${args.repeat} rounds, the variants taking turns; medians over rounds.`,
    "",
    markdownTable(
      ["variant", "tenant B p50", "tenant B p99", `goal p99 < ${GOAL_P99_MS} ms`, "drain ops/s", "drain / off's", `goal ≥ ${GOAL_RATIO}`],
      measured.map((v) => [
        LABELS[v](args),
        ms(p50(v)),
        ms(p99(v)),
        v === "off" ? "" : p99(v) < GOAL_P99_MS ? "met" : "**missed**",
        Math.round(drain(v)).toLocaleString("en"),
        v === "off" ? "" : ratio(v).toFixed(2),
        v === "off" ? "" : ratio(v) >= GOAL_RATIO ? "met" : "**missed**",
      ]),
    ),
    "",
  ].join("\n");
  writeFileSync(join(RESULTS_DIR, `fairness-${args.store}.md`), markdown);
  appendJsonLines("fairness.jsonl", [{ bench: "fairness", date, machine: host, source, args, results: results.map((r) => ({ ...r, bP50: percentile(r.bLatencies, 0.5), bP99: percentile(r.bLatencies, 0.99), bLatencies: undefined })) }]);
  console.log("\n" + markdown);
}

function ms(n: number): string {
  return `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en")} ms`;
}
