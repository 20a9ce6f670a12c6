/** What the throughput and latency benchmarks share: percentiles, polling, PostgreSQL's own counters. */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

/**
 * bench/results/, where benchmarks keep what they measured (JSON lines, markdown, charts); or the directory
 * in LONGRUN_BENCH_RESULTS_DIR, where a run that is not to be kept writes instead (a smoke run, or each
 * side of `throughput --baseline`, whose parent reads the rows back from it).
 */
export const RESULTS_DIR = process.env.LONGRUN_BENCH_RESULTS_DIR
  ? join(resolve(process.env.LONGRUN_BENCH_RESULTS_DIR), "/")
  : fileURLToPath(new URL("../results/", import.meta.url));

/** The value below which a fraction `p` of the values fall (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** The middle value, or the mean of the two middle ones: with a few rounds, not the nearest rank's larger one. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length === 0 ? Number.NaN : Number.isInteger(mid) ? ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2 : (sorted[Math.floor(mid)] as number);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves when `done()` says so, checking every `intervalMs`; returns how many checks it made (each may
 * be a PostgreSQL transaction the caller subtracts from its commit count).
 */
export async function pollUntil(done: () => Promise<boolean>, intervalMs: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (let checks = 1; ; checks++) {
    if (await done()) return checks;
    if (performance.now() > deadline) throw new Error(`not done after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/**
 * PostgreSQL's counters that tell what a run cost the server: commits in this database (reads included),
 * WAL flushes to disk and WAL bytes (whole cluster).
 */
export interface PgCounters {
  commits: number;
  walSyncs: number;
  walBytes: number;
}

/**
 * Since PostgreSQL 15 a backend reports its counters at the end of a transaction at most once a second,
 * and what is still pending when it goes idle only 10 s later (PGSTAT_IDLE_INTERVAL): reading sooner after
 * a run would miss its last second of commits, and reading sooner before one would count the setup's.
 */
export const PG_STATS_SETTLE_MS = 11_000;

/** Reads the counters, after PG_STATS_SETTLE_MS so what came before has been reported. Costs one commit. */
export async function pgCounters(client: pg.Client): Promise<PgCounters> {
  await sleep(PG_STATS_SETTLE_MS);
  const { rows } = await client.query<{ commits: string; wal_syncs: string; wal_bytes: string }>(
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
            wal_sync AS wal_syncs, wal_bytes::bigint AS wal_bytes
     FROM pg_stat_wal`,
  );
  const row = rows[0];
  if (!row) throw new Error("pg_stat_wal returned no row");
  return { commits: Number(row.commits), walSyncs: Number(row.wal_syncs), walBytes: Number(row.wal_bytes) };
}

/** Per-job costs between two readings; `ownTransactions` are the benchmark's own (its polls, one reading). */
export function perJob(before: PgCounters, after: PgCounters, jobs: number, ownTransactions: number): PgCounters {
  return {
    commits: (after.commits - before.commits - ownTransactions) / jobs,
    walSyncs: (after.walSyncs - before.walSyncs) / jobs,
    walBytes: (after.walBytes - before.walBytes) / jobs,
  };
}

/** Appends one JSON object per line to bench/results/<file>. */
export function appendJsonLines(file: string, records: readonly object[]): void {
  const path = RESULTS_DIR + file;
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, records.map((r) => JSON.stringify(r) + "\n").join(""));
}

/** A markdown table from a header and rows of cells. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n") + "\n";
}

/** Machine and software versions, printed and stored with every result. */
export function machine(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; commit: string } {
  return {
    commit: sourceCommit(),
    // The CPUs this process may use (affinity, cgroup), which is what a benchmark gets.
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** The commit the sources were measured at, `+dirty` when src/ has changes not committed (numbers move with src/). */
function sourceCommit(): string {
  const git = (args: string[]): string => {
    try {
      return execFileSync("git", args, { cwd: fileURLToPath(new URL("../..", import.meta.url)), encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  const head = git(["rev-parse", "--short", "HEAD"]) || "unknown";
  return git(["status", "--porcelain", "--", "src"]) ? `${head}+dirty` : head;
}

/** A rate or count as reports write it: rounded, thousands separated (12,345). */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString("en");
}

/** Per-run values as reports write them: "middle (min–max)", the middle being their median unless given. */
export function medianRange(values: readonly number[], middle = median(values)): string {
  return `${thousands(middle)} (${thousands(Math.min(...values))}–${thousands(Math.max(...values))})`;
}

/** `source` as reports write it: "commit abc1234", and " + uncommitted src/…" when src/ has changed since. */
export function sourceText(source: { commit: string; uncommittedSrc: readonly string[] }): string {
  return `commit ${source.commit}${source.uncommittedSrc.length ? ` + uncommitted ${source.uncommittedSrc.join(", ")}` : ""}`;
}

/** What a side-by-side benchmark ran with, as its report states it. */
export interface SideBySideRun {
  bench: string;
  /** The report's heading. */
  title: string;
  /** What the variants are, after the run's facts. */
  setup: string;
  variants: number;
  date: string;
  source: { commit: string; uncommittedSrc: readonly string[] };
  args: { seconds: number; repeat: number; warmup: number };
}

/**
 * Saves a side-by-side benchmark's results: every round and each summary (with the machine and sources)
 * appended to `<bench>.jsonl`, and the markdown report — heading, the run's facts, `setup`, the table —
 * written to `<bench>.md` and printed.
 */
export function saveSideBySide(run: SideBySideRun, rounds: readonly object[], summaries: readonly object[], table: string): void {
  const { bench, date, source, args } = run;
  const host = machine();
  appendJsonLines(`${bench}.jsonl`, [
    ...rounds.map((r) => ({ bench, kind: "round", date, ...r })),
    ...summaries.map((s) => ({ bench, kind: "summary", date, machine: host, source, seconds: args.seconds, repeat: args.repeat, ...s })),
  ]);
  const taking = run.variants === 2 ? "the two variants" : run.variants === 3 ? "the three variants" : `the ${run.variants} variants`;
  const markdown = [
    `## ${bench} — ${run.title}`,
    "",
    `${date}; ${host.cpus} CPUs (${host.cpuModel}), Node ${host.node}; sources ${sourceText(source)}. Each cell: ${args.repeat} runs of ${args.seconds} s after a ${args.warmup} s warm-up, ${taking} taking turns. ${run.setup}`,
    "",
    table,
  ].join("\n");
  writeFileSync(join(RESULTS_DIR, `${bench}.md`), markdown);
  console.log("\n" + markdown);
}
