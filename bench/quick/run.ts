/**
 * The regression guard: one short run of each headline measurement, reusing the benchmarks' own code —
 * drain (bench/throughput: longrun SQLite and PostgreSQL against graphile-worker's batching preset, without
 * PostgreSQL's per-job counters, whose 11 s settling would double the time), end to end over gRPC
 * (bench/throughput/longrun-e2e.ts, SQLite, 64 in flight), GetOperation at 1 in flight against the bare
 * servers (bench/rpc, both transports, one run each), the cross-instance Wait wake-up (bench/wait/wake.ts)
 * and crash recovery (recovery.ts). Short runs on a shared machine are noisy (tens of percent between runs):
 * a line that moved deserves the full benchmark, not a conclusion.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureRpc, type Measurement } from "../rpc/run.js";
import { appendJsonLines, machine, markdownTable, median, percentile, RESULTS_DIR } from "../support/measure.js";
import { longrunDrain } from "../throughput/longrun-drain.js";
import { longrunEndToEnd } from "../throughput/longrun-e2e.js";
import { peerDrain } from "../throughput/peer-modes.js";
import { systemSpecs, type SystemSpec } from "../throughput/systems.js";
import { measureWake } from "../wait/wake.js";
import type { PARTS } from "./index.js";
import { measureRecovery } from "./recovery.js";

type Part = (typeof PARTS)[number];

/** What `npm run bench -- quick` was asked (bench/quick/index.ts declares the flags). */
export interface QuickArgs {
  parts: Part[];
  n: number;
  "e2e-n": number;
  seconds: number;
  "wake-n": number;
}

/** One line of the table: a measurement, and where it has one, its ratio and the goal (issue 20). */
interface Row {
  part: Part;
  what: string;
  value: string;
  ratio?: string;
  goal?: string;
  /** The raw numbers, for quick.jsonl. */
  data: Record<string, number>;
}

export async function run(args: QuickArgs): Promise<void> {
  const began = performance.now();
  const rows: Row[] = [];
  const step = (what: string) => console.log(`quick: ${what}… (${((performance.now() - began) / 1000).toFixed(0)} s)`);
  if (args.parts.includes("drain")) {
    step(`drain, N ${args.n}`);
    rows.push(...(await drain(args.n)));
  }
  if (args.parts.includes("e2e")) {
    step(`end to end, N ${args["e2e-n"]}`);
    const n = args["e2e-n"];
    const e2e = await longrunEndToEnd({ store: "sqlite", instances: 1, handler: "noop", n, inflight: 64, warmup: 200 });
    rows.push({
      part: "e2e",
      what: "end to end over gRPC (start + WaitOperation, SQLite, 64 in flight, lean HTTP/2 client)",
      value: `${fmt(n / e2e.seconds)} ops/s; start RPC p99 ${percentile(e2e.startRpc, 0.99).toFixed(1)} ms`,
      goal: "start p99 < 25 ms",
      data: { opsPerSecond: n / e2e.seconds, startP99Ms: percentile(e2e.startRpc, 0.99) },
    });
  }
  if (args.parts.includes("rpc")) {
    step("GetOperation at 1 in flight");
    rows.push(...(await rpc(args.seconds)));
  }
  if (args.parts.includes("wake")) {
    step(`wake, N ${args["wake-n"]}`);
    const delays = await measureWake(args["wake-n"]);
    rows.push({
      part: "wake",
      what: "Wait wake-up across instances (PostgreSQL: A's finish → B's WaitOperation answers)",
      value: `p50 ${percentile(delays, 0.5)} ms, p99 ${percentile(delays, 0.99)} ms (${delays.length} samples)`,
      goal: "— (goal 5's p99 < 50 ms is for 10,000 waiters: `wait`)",
      data: { p50Ms: percentile(delays, 0.5), p99Ms: percentile(delays, 0.99) },
    });
  }
  if (args.parts.includes("recovery")) {
    step("crash recovery");
    const ms = await measureRecovery();
    rows.push({
      part: "recovery",
      what: "crash recovery (PostgreSQL, kill -9 of 1 of 2, lease 30 s: its 8 operations running on the survivor)",
      value: `${fmt(ms)} ms`,
      goal: "< 3,000 ms",
      data: { ms },
    });
  }
  const seconds = (performance.now() - began) / 1000;
  report(rows, seconds, args);
}

async function drain(n: number): Promise<Row[]> {
  const specs = systemSpecs();
  const spec = (id: string): SystemSpec => specs.find((s) => s.id === id)!;
  const longrun = async (id: string) => {
    const s = spec(id);
    if (!("longrun" in s)) throw new Error(`${id} is not longrun`);
    return (await longrunDrain(s, { ...s.longrun, handler: "noop" }, n, undefined, false)).jobsPerSecond;
  };
  const sqlite = await longrun("longrun-sqlite");
  const postgres = await longrun("longrun-postgres");
  const graphile = spec("graphile-worker-batched");
  if (!("peer" in graphile)) throw new Error("graphile-worker-batched is not a peer");
  const peer = (await peerDrain(await graphile.peer(), n, false)).jobsPerSecond;
  const row = (what: string, jobs: number, goal: number): Row => ({
    part: "drain",
    what: `drain, ${what}, N ${fmt(n)}, no-op jobs`,
    value: `${fmt(jobs)} jobs/s`,
    ratio: `${(jobs / peer).toFixed(2)}× graphile-worker (${fmt(peer)} jobs/s)`,
    goal: `≥ ${goal}×`,
    data: { jobsPerSecond: jobs, graphileJobsPerSecond: peer, ratio: jobs / peer },
  });
  return [row("longrun SQLite", sqlite, 2), row("longrun PostgreSQL ×1", postgres, 1.5)];
}

async function rpc(seconds: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-quick-"));
  try {
    const { measurements } = await measureRpc(
      { seconds, repeat: 1, warmup: Math.min(seconds, 2), concurrency: [1], transports: ["grpc", "rest"], profile: false },
      dir,
    );
    const of = (transport: Measurement["transport"], target: Measurement["target"]) =>
      median(measurements.filter((m) => m.transport === transport && m.target === target).map((m) => m.requestsPerSecond));
    return (["grpc", "rest"] as const).map((transport) => {
      const longrun = of(transport, "longrun");
      const bare = of(transport, "bare");
      return {
        part: "rpc" as const,
        what: `GetOperation over ${transport === "grpc" ? "gRPC (grpc-js client)" : "REST (autocannon)"}, 1 in flight`,
        value: `${fmt(longrun)} req/s`,
        ratio: `${((100 * longrun) / bare).toFixed(0)}% of bare ${transport === "grpc" ? "grpc-js" : "node:http"} (${fmt(bare)} req/s)`,
        ...(transport === "rest" ? { goal: "≥ 80%" } : {}),
        data: { requestsPerSecond: longrun, bareRequestsPerSecond: bare, ratio: longrun / bare },
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(rows: readonly Row[], seconds: number, args: QuickArgs): void {
  const date = new Date().toISOString();
  const host = machine();
  const table = markdownTable(
    ["measurement", "longrun", "ratio", "goal (issue 20)"],
    rows.map((r) => [r.what, r.value, r.ratio ?? "—", r.goal ?? "—"]),
  );
  const markdown = [
    "## quick — the headline numbers, one short run each",
    "",
    `${date}; sources at ${host.commit}; ${host.cpus} CPUs (${host.cpuModel}), ${host.memoryGiB} GiB, Node ${host.node}; ` +
      `${seconds.toFixed(0)} s in all. A regression guard: one short run per line on a shared machine, so expect tens of ` +
      "percent between runs; run the full benchmark (docs/benchmarks.md) before concluding anything.",
    "",
    table,
  ].join("\n");
  appendJsonLines("quick.jsonl", [{ bench: "quick", date, machine: host, seconds, args, rows: rows.map(({ part, what, data }) => ({ part, what, ...data })) }]);
  writeFileSync(join(RESULTS_DIR, "quick.md"), markdown);
  console.log("\n" + markdown);
  console.log(`written: ${RESULTS_DIR}quick.{jsonl,md}`);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en");
}
