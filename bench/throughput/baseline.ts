/**
 * `throughput --baseline REV`: longrun's own rows measured from two source trees in one run, this one and a
 * baseline, and the ratio current ÷ baseline for each row, so a change can be shown to cost no throughput
 * on a machine whose numbers move ±50% from one hour to the next.
 *
 * How, and why so:
 * - The baseline is a `git worktree add --detach` of REV in a temporary directory (or a checkout given with
 *   --baseline-dir), with node_modules linked to this checkout's: the same dependencies, only longrun's own
 *   sources differ. The worktree is removed at the end, also on Ctrl-C.
 * - Each tree is measured by its OWN benchmark code: `node --import tsx bench/main.ts throughput --systems S
 *   --modes M …` run with the tree as working directory. The harness reaches into longrun's sources (the
 *   drain worker opens the store and starts the runtime directly; the creator calls
 *   `runtime.startOperations`), and those internals move between revisions; a tree's own harness always
 *   matches its sources, and `bench/main.ts throughput` with these flags is the one interface both sides
 *   keep. Servers are each tree's own `src/cli/main.ts serve`.
 * - This tree's rows run the same way, in a child process of their own, so both sides get the same
 *   treatment: a fresh process per row, nothing warmed up by the rows before it.
 * - Rows are interleaved: for every row and round, one tree then the other, the order flipping from row to
 *   row and from round to round, so that drift of the machine's load falls on both.
 * - A child writes its results into a temporary directory (LONGRUN_BENCH_RESULTS_DIR), read back as JSON
 *   lines. A harness older than that variable writes into its own tree's bench/results/ instead; the lines
 *   it appended there are read.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { UsageError } from "../support/args.js";
import { appendJsonLines, machine, markdownTable, median, RESULTS_DIR } from "../support/measure.js";
import { MODE_LABEL, type Mode } from "./modes.js";
import { rate } from "./report.js";
import { systemSpecs, type LongrunHandler } from "./systems.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface BaselineArgs {
  n: number;
  inflight: number;
  warmup: number;
  handler: LongrunHandler;
  modes: Mode[];
  /** longrun systems to compare; undefined: all five. */
  systems: string[] | undefined;
  profile: string | undefined;
  /** A git revision, made into a temporary worktree… */
  baseline: string | undefined;
  /** …or an existing checkout. */
  baselineDir: string | undefined;
  rounds: number;
}

/** One source tree under test. */
interface Tree {
  side: "current" | "baseline";
  root: string;
  /** The commit, `+dirty` when its src/ has changes not committed. */
  commit: string;
}

/** One row measured once from one tree, as that tree's harness recorded it. */
interface Measured {
  jobsPerSecond: number;
  commitsPerJob: number | undefined;
}

interface RowComparison {
  system: string;
  label: string;
  mode: Mode;
  current: number[];
  baseline: number[];
  currentCommits: (number | undefined)[];
  baselineCommits: (number | undefined)[];
}

export async function compareWithBaseline(args: BaselineArgs): Promise<void> {
  const specs = systemSpecs().filter((s) => "longrun" in s);
  const ids = args.systems ?? specs.map((s) => s.id);
  const others = ids.filter((id) => !specs.some((s) => s.id === id));
  if (others.length > 0) throw new UsageError(`throughput: with a baseline only longrun's own systems run (peers do not change with longrun's sources): not ${others.join(", ")}`);
  const rows = specs.filter((s) => ids.includes(s.id)).flatMap((spec) => args.modes.map((mode) => ({ spec, mode })));

  const current: Tree = { side: "current", root: ROOT, commit: commitOf(ROOT) };
  const checkout = args.baselineDir ? existingCheckout(args.baselineDir) : await temporaryWorktree(args.baseline as string);
  const baseline: Tree = { side: "baseline", root: checkout.root, commit: commitOf(checkout.root) };
  const scratch = mkdtempSync(join(tmpdir(), "longrun-bench-compare-"));
  const runId = new Date().toISOString();
  const comparisons: RowComparison[] = [];
  try {
    console.log(
      `throughput, current (${current.commit}) against baseline (${args.baseline ?? args.baselineDir} = ${baseline.commit}): N ${args.n}, ` +
        `${args.inflight} in flight (end to end), ${args.rounds} round(s), ${rows.length} rows, run ${runId}`,
    );
    for (const { spec, mode } of rows) {
      comparisons.push({ system: spec.id, label: spec.label, mode, current: [], baseline: [], currentCommits: [], baselineCommits: [] });
    }
    let invocation = 0;
    for (let round = 0; round < args.rounds; round++) {
      for (const [i, { spec, mode }] of rows.entries()) {
        const row = comparisons[i] as RowComparison;
        // Flipped per row and per round: neither tree always goes first, or always right after the other.
        const order = (round + i) % 2 === 0 ? [current, baseline] : [baseline, current];
        for (const tree of order) {
          console.log(`\n[${tree.side}] ${spec.label}: ${MODE_LABEL[mode]}, round ${round + 1} of ${args.rounds}…`);
          const measured = await measureRow(tree, spec.id, mode, args, join(scratch, String(invocation++)));
          console.log(`[${tree.side}] ${rate(measured.jobsPerSecond)} jobs/s`);
          (tree.side === "current" ? row.current : row.baseline).push(measured.jobsPerSecond);
          (tree.side === "current" ? row.currentCommits : row.baselineCommits).push(measured.commitsPerJob);
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    checkout.remove();
  }

  const env = machine();
  const report = renderComparison(comparisons, { ...args, runId, currentTree: current, baselineTree: baseline, env });
  console.log("\n" + report);
  appendJsonLines(
    "throughput-baseline.jsonl",
    comparisons.map((c) => ({
      bench: "throughput-baseline",
      runId,
      ...c,
      ratio: median(c.current) / median(c.baseline),
      currentCommit: current.commit,
      baselineCommit: baseline.commit,
      n: args.n,
      inflight: args.inflight,
      handler: args.handler,
      environment: env,
    })),
  );
  writeFileSync(join(RESULTS_DIR, "throughput-baseline.md"), report);
  console.log(`written: ${RESULTS_DIR}throughput-baseline.{jsonl,md}`);
}

/** Runs one row of the throughput benchmark with the tree's own harness, in a process of its own. */
async function measureRow(tree: Tree, system: string, mode: Mode, args: BaselineArgs, resultsDir: string): Promise<Measured> {
  const treeResults = join(tree.root, "bench", "results", "throughput.jsonl");
  const treeResultsBefore = existsSync(treeResults) ? statSync(treeResults).size : 0;
  const argv = ["--import", "tsx", "bench/main.ts", "throughput", "--n", String(args.n), "--inflight", String(args.inflight)];
  argv.push("--warmup", String(args.warmup), "--handler", args.handler, "--systems", system, "--modes", mode);
  if (args.profile) argv.push("--profile", join(resolve(args.profile), tree.side));
  const child = spawn(process.execPath, argv, {
    cwd: tree.root,
    env: { ...process.env, LONGRUN_BENCH_RESULTS_DIR: resultsDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      output.push(line);
      console.log(`[${tree.side}]   ${line}`);
    });
  }
  const code = await new Promise<number | string>((resolve) => child.on("exit", (c, signal) => resolve(c ?? signal ?? -1)));
  if (code !== 0) throw new Error(`${tree.side} tree (${tree.root}): throughput ${system} ${mode} exited with ${code}:\n${output.slice(-20).join("\n")}`);

  // This harness writes where it is told; an older one into its own tree's results, after what was there.
  const ownFile = join(resultsDir, "throughput.jsonl");
  const lines = existsSync(ownFile)
    ? readFileSync(ownFile, "utf8")
    : existsSync(treeResults)
      ? readFileSync(treeResults).subarray(treeResultsBefore).toString("utf8")
      : "";
  const record = lines
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { system?: string; mode?: string; jobsPerSecond?: number; perJob?: { commits?: number } })
    .findLast((r) => r.system === system && r.mode === mode && typeof r.jobsPerSecond === "number");
  if (!record) throw new Error(`${tree.side} tree: no ${system} ${mode} result in its throughput.jsonl:\n${output.slice(-20).join("\n")}`);
  return { jobsPerSecond: record.jobsPerSecond as number, commitsPerJob: record.perJob?.commits };
}

interface Checkout {
  root: string;
  remove(): void;
}

/** `git worktree add --detach` of `revision` in a temporary directory, node_modules linked to this checkout's. */
async function temporaryWorktree(revision: string): Promise<Checkout> {
  const git = (...argv: string[]): string => execFileSync("git", argv, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  const commit = git("rev-parse", "--verify", `${revision}^{commit}`);
  const dir = mkdtempSync(join(tmpdir(), "longrun-baseline-"));
  const root = join(dir, "tree");
  git("worktree", "add", "--detach", root, commit);
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    process.off("SIGINT", interrupted);
    try {
      git("worktree", "remove", "--force", root);
    } catch (error) {
      console.error(`could not remove the baseline worktree ${root}: ${String(error)}`);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ctrl-C during a long run must not leave a registered worktree behind.
  const interrupted = (): void => {
    remove();
    process.exit(130);
  };
  process.on("SIGINT", interrupted);
  linkNodeModules(root);
  return { root, remove };
}

/** A checkout given by the user: used as it is, except for a node_modules link if it has none (removed after). */
function existingCheckout(path: string): Checkout {
  const root = resolve(path);
  if (!existsSync(join(root, "bench", "main.ts"))) throw new Error(`--baseline-dir ${path}: no bench/main.ts there`);
  const linked = !existsSync(join(root, "node_modules"));
  if (linked) linkNodeModules(root);
  return { root, remove: () => linked && rmSync(join(root, "node_modules"), { force: true }) };
}

/** The same installed dependencies on both sides: only longrun's own sources differ. */
function linkNodeModules(root: string): void {
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(root, "node_modules"), "dir");
}

function commitOf(root: string): string {
  const git = (...argv: string[]): string => execFileSync("git", argv, { cwd: root, encoding: "utf8" }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--", "src") ? "+dirty" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

function renderComparison(
  comparisons: readonly RowComparison[],
  run: BaselineArgs & { runId: string; currentTree: Tree; baselineTree: Tree; env: ReturnType<typeof machine> },
): string {
  const spread = (values: readonly number[]): string =>
    values.length === 1 ? rate(values[0]) : `${rate(median(values))} (${rate(Math.min(...values))}–${rate(Math.max(...values))})`;
  const commits = (values: readonly (number | undefined)[]): string => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length === 0 ? "—" : median(known).toFixed(2);
  };
  const rows = comparisons.map((c) => [
    c.label,
    MODE_LABEL[c.mode],
    spread(c.current),
    spread(c.baseline),
    (median(c.current) / median(c.baseline)).toFixed(2),
    `${commits(c.currentCommits)} / ${commits(c.baselineCommits)}`,
  ]);
  return [
    `## Throughput, current against baseline — run ${run.runId}`,
    "",
    `current: ${run.currentTree.commit}; baseline: ${run.baseline ?? run.baselineDir} = ${run.baselineTree.commit}. N = ${run.n} jobs per row; ` +
      `end to end: ${run.inflight} in flight; longrun's job: ${run.handler === "noop" ? "a Demo/Sleep that only returns" : "the demo's Sleep(0)"}. ` +
      `Each row ${run.rounds} time(s) per tree, each time in a fresh process running that tree's own benchmark code, the two trees taking turns. ` +
      `Machine: ${run.env.cpus} CPUs (${run.env.cpuModel}), ${run.env.memoryGiB} GiB, Node ${run.env.node}. ` +
      "jobs/s: median (min–max) over the rounds; ratio: the medians, current ÷ baseline (above 1: current is faster).",
    "",
    markdownTable(["system", "mode", "current jobs/s", "baseline jobs/s", "current ÷ baseline", "commits/job current / baseline"], rows),
  ].join("\n");
}
