/** The throughput report: a line per row as it is measured, the markdown tables, the SVG chart. */
import { readFileSync } from "node:fs";
import pg from "pg";
import { POSTGRES_URL } from "../../test/support/postgres.js";
import { barChartSvg } from "../support/chart.js";
import { markdownTable } from "../support/measure.js";
import type { Mode } from "./modes.js";
import { LIMIT_SECONDS, type LimitResult } from "./postgres-limit.js";
import { BARE_GRPC_JS, type LongrunHandler, type ThroughputResult } from "./systems.js";

export async function versions(): Promise<Record<string, string>> {
  const packageVersion = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
    } catch {
      return "not installed";
    }
  };
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  const postgres = (await admin.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "?";
  await admin.end();
  return {
    postgres,
    graphileWorker: packageVersion("graphile-worker"),
    pgBoss: packageVersion("pg-boss"),
    bullmq: packageVersion("bullmq"),
    ioredis: packageVersion("ioredis"),
  };
}

export function describe(r: ThroughputResult): string {
  const parts = [`${r.jobsPerSecond.toFixed(0)} jobs/s (${r.jobs} in ${r.seconds.toFixed(2)} s)`];
  if (r.storeSeconds !== undefined) parts.push(`stored in ${r.storeSeconds.toFixed(2)} s`);
  if (r.perJob) parts.push(`${r.perJob.commits.toFixed(2)} commits/job, ${r.perJob.walSyncs.toFixed(3)} WAL flushes/job, ${Math.round(r.perJob.walBytes)} WAL bytes/job`);
  if (r.startRpcMs) parts.push(`start RPC p50 ${r.startRpcMs.p50.toFixed(1)} / p99 ${r.startRpcMs.p99.toFixed(1)} ms`);
  if (r.cpuPerJobUs) parts.push(`CPU per job: server ${Math.round(r.cpuPerJobUs.server)} µs, client ${Math.round(r.cpuPerJobUs.client)} µs`);
  return parts.join("; ");
}

export function rate(value: number | undefined): string {
  return value === undefined ? "—" : Math.round(value).toLocaleString("en");
}

function ratio(longrun: number | undefined, peer: number | undefined): string {
  return longrun === undefined || peer === undefined ? "—" : (longrun / peer).toFixed(2);
}

export function renderReport(
  results: readonly ThroughputResult[],
  limits: readonly LimitResult[],
  run: { n: number; inflight: number; runId: string; env: Record<string, string | number>; handler: LongrunHandler },
): string {
  const systems = [...new Map(results.map((r) => [r.system, r.label])).entries()];
  const find = (system: string, mode: Mode) => results.find((r) => r.system === system && r.mode === mode);
  const reference = (system: string) => ({ drain: find(system, "drain")?.jobsPerSecond, e2e: find(system, "e2e")?.jobsPerSecond });
  const sqlite = reference("longrun-sqlite");
  const postgres = reference("longrun-postgres");
  const library = results.some((r) => r.mode === "library");
  const rows = systems.map(([system, label]) => {
    const drain = find(system, "drain");
    const e2e = find(system, "e2e");
    const inProcess = library ? [rate(find(system, "library")?.jobsPerSecond)] : [];
    const pair = (f: (r: ThroughputResult) => string | undefined) => `${(drain && f(drain)) ?? "—"} / ${(e2e && f(e2e)) ?? "—"}`;
    const peer = !system.startsWith("longrun");
    return [
      label,
      rate(drain?.jobsPerSecond),
      rate(e2e?.jobsPerSecond),
      ...inProcess,
      pair((r) => r.perJob?.commits.toFixed(2)),
      pair((r) => r.perJob?.walSyncs.toFixed(3)),
      peer ? `${ratio(postgres.drain, drain?.jobsPerSecond)} / ${ratio(postgres.e2e, e2e?.jobsPerSecond)}` : "",
      peer ? `${ratio(sqlite.drain, drain?.jobsPerSecond)} / ${ratio(sqlite.e2e, e2e?.jobsPerSecond)}` : "",
    ];
  });
  const lines: string[] = [];
  lines.push(`## Throughput — run ${run.runId}`, "");
  lines.push(
    `N = ${run.n} jobs per system and mode; end to end: ${run.inflight} in flight. Machine: ${run.env.cpus} CPUs (${run.env.cpuModel}), ` +
      `${run.env.memoryGiB} GiB, Node ${run.env.node}; sources at ${run.env.commit}; PostgreSQL ${run.env.postgres}; graphile-worker ${run.env.graphileWorker}, ` +
      `pg-boss ${run.env.pgBoss}, BullMQ ${run.env.bullmq} (ioredis ${run.env.ioredis}). longrun's job: ` +
      (run.handler === "noop" ? "a Demo/Sleep handler that only returns (--handler noop)." : "the demo's Demo/Sleep, duration 0 (it writes progress 100 durably, then returns)."),
    "",
  );
  lines.push(
    markdownTable(
      [
        "system",
        "drain jobs/s",
        "end to end jobs/s",
        ...(library ? ["library jobs/s"] : []),
        "commits/job drain / e2e",
        "WAL flushes/job drain / e2e",
        "longrun PG×1 ÷ this, drain / e2e",
        "longrun SQLite ÷ this, drain / e2e",
      ],
      rows,
    ),
  );
  if (library) lines.push(libraryGoals(results), "");
  const bare = againstBare(results);
  if (bare) lines.push(bare);
  if (limits.length > 0) {
    lines.push("PostgreSQL's physical limit, same run: one INSERT per transaction (" + (limits[0]?.tool ?? "") + `, ${LIMIT_SECONDS} s each)`, "");
    lines.push(
      markdownTable(
        ["clients", "pg_notify in the transaction", "commits/s", "WAL flushes/commit"],
        limits.map((l) => [String(l.clients), l.notify ? "yes" : "no", rate(l.commitsPerSecond), l.walSyncsPerCommit.toFixed(2)]),
      ),
    );
  }
  lines.push("How each system ran and what \"done\" means:", "");
  lines.push(
    markdownTable(
      ["system", "concurrency", "end to end: awaited until"],
      systems.map(([system, label]) => {
        const any = find(system, "e2e") ?? find(system, "library") ?? find(system, "drain");
        return [label, any?.concurrency ?? "", (find(system, "e2e") ?? find(system, "library"))?.doneMeans ?? "—"];
      }),
    ),
  );
  const starts = results.filter((r) => r.startRpcMs);
  if (starts.length > 0) {
    lines.push("longrun start RPC under load (end to end), p50 / p99: " + starts.map((r) => `${r.label} ${r.startRpcMs!.p50.toFixed(1)} / ${r.startRpcMs!.p99.toFixed(1)} ms`).join("; ") + ".", "");
  }
  return lines.join("\n");
}

/**
 * End to end against the bare grpc-js server, per load-generator client (issue 20: longrun ≥ 0.9× bare
 * with either client): undefined when the run has no bare row.
 */
export function againstBare(results: readonly ThroughputResult[]): string | undefined {
  const e2e = results.filter((r) => r.mode === "e2e" && r.client !== undefined);
  const clients = [...new Set(e2e.filter((r) => r.system === BARE_GRPC_JS).map((r) => r.client!))];
  if (clients.length === 0) return undefined;
  const of = (system: string, client: string) => e2e.find((r) => r.system === system && r.client === client)?.jobsPerSecond;
  const rows = clients.map((client) => {
    const bare = of(BARE_GRPC_JS, client);
    const cell = (system: string) => {
      const longrun = of(system, client);
      return longrun === undefined ? "—" : `${rate(longrun)} (${ratio(longrun, bare)}×)`;
    };
    return [client, rate(bare), cell("longrun-sqlite"), cell("longrun-postgres")];
  });
  const cpuOf = (system: string, client: string) => e2e.find((r) => r.system === system && r.client === client)?.cpuPerJobUs;
  const total = (cpu: { server: number; client: number }) => cpu.server + cpu.client;
  const cpuRows = clients.map((client) => {
    const bare = cpuOf(BARE_GRPC_JS, client);
    const cell = (system: string) => {
      const cpu = cpuOf(system, client);
      if (cpu === undefined) return "—";
      const bound = bare === undefined ? "" : ` (${(total(bare) / total(cpu)).toFixed(2)}×)`;
      return `${Math.round(cpu.server)} + ${Math.round(cpu.client)} = ${Math.round(total(cpu))}${bound}`;
    };
    return [client, bare === undefined ? "—" : `${Math.round(bare.server)} + ${Math.round(bare.client)} = ${Math.round(total(bare))}`, cell("longrun-sqlite"), cell("longrun-postgres")];
  });
  return [
    "End to end over gRPC against its physical limit, same run: a bare grpc-js server answering Sleep and WaitOperation with constants (bench/throughput/bare-lro-server.ts), " +
      "the same load through the same client (goal: longrun ≥ 0.9× bare with either client):",
    "",
    markdownTable(["client", "bare grpc-js jobs/s", "longrun SQLite jobs/s (÷ bare)", "longrun PostgreSQL jobs/s (÷ bare)"], rows),
    "",
    "CPU per job in the same runs, µs: the server's process (every thread) + the load generator's, which share the machine's cores " +
      "(PostgreSQL's own backends not counted). In brackets, bare's total ÷ longrun's: the most longrun ÷ bare could be were both runs CPU-bound.",
    "",
    markdownTable(["client", "bare grpc-js", "longrun SQLite", "longrun PostgreSQL"], cpuRows),
  ].join("\n");
}

/** PostgreSQL peers: their library rows are what longrun on PostgreSQL is compared with. */
const POSTGRES_PEERS = ["graphile-worker", "graphile-worker-batched", "pg-boss", "pg-boss-notify"];

/**
 * The library mode's goals (issue 20): longrun on PostgreSQL ÷ the best PostgreSQL peer, longrun on SQLite ÷
 * BullMQ concurrency 10, every row from this run's library mode (the peers' is their end-to-end mode).
 */
export function libraryGoals(results: readonly ThroughputResult[]): string {
  const library = results.filter((r) => r.mode === "library");
  const of = (system: string) => library.find((r) => r.system === system);
  const best = library.filter((r) => POSTGRES_PEERS.includes(r.system)).sort((x, y) => y.jobsPerSecond - x.jobsPerSecond)[0];
  const parts: string[] = [];
  const postgres = of("longrun-postgres");
  if (postgres && best) parts.push(`longrun PostgreSQL ÷ best PostgreSQL peer (${best.label}) ${ratio(postgres.jobsPerSecond, best.jobsPerSecond)} (goal ≥ 1.5)`);
  const sqlite = of("longrun-sqlite");
  const bullmq = of("bullmq-c10");
  if (sqlite && bullmq) parts.push(`longrun SQLite ÷ BullMQ c10 ${ratio(sqlite.jobsPerSecond, bullmq.jobsPerSecond)} (goal ≥ 1.0)`);
  return `Library mode (longrun in-process: server.operations.start + result(); peers: their in-process enqueue and await): ${parts.length > 0 ? parts.join("; ") : "no pair to compare in this run"}.`;
}

/** The SVG bar chart of a run: jobs/s per system, drain and end to end side by side. */
export function throughputChart(results: readonly ThroughputResult[], n: number, inflight: number, handler: LongrunHandler): string {
  const systems = [...new Map(results.map((r) => [r.system, r.label])).entries()];
  const values = (mode: Mode) => systems.map(([system]) => results.find((r) => r.system === system && r.mode === mode)?.jobsPerSecond);
  return barChartSvg(
    `Throughput (N = ${n.toLocaleString("en")}; end to end: ${inflight} in flight; longrun's job: ${handler === "noop" ? "no-op" : "demo Sleep(0)"})`,
    systems.map(([, label]) => label),
    [
      { name: "drain (stored first, then run)", values: values("drain") },
      { name: `end to end (enqueued singly, awaited)`, values: values("e2e") },
      ...(results.some((r) => r.mode === "library") ? [{ name: "library (longrun in-process)", values: values("library") }] : []),
    ],
    { unit: "jobs/s" },
  );
}
