/**
 * Throughput, side by side with peers, in two modes, every system measured in the same run with the same
 * N and the same number of jobs in flight:
 *
 * - drain: N jobs stored first with the system's bulk API, no worker running; then the workers start and
 *   the clock runs until the store says none is left (checked every 25 ms; longrun on SQLite counts its
 *   own "done" change events instead, since no other process may open its file).
 * - e2e (end to end): each job enqueued singly, `inflight` at a time, each awaited until done before its
 *   lane enqueues the next. longrun: a gRPC Demo/Sleep(0) call to real `longrun serve` processes,
 *   awaited with WaitOperation, sent by a minimal HTTP/2 client (bench/support/grpc-h2.ts). Peers: their producer
 *   call, awaited in-process (see `doneMeans` of each).
 *   `--client grpc-js` sends the load with the real @grpc/grpc-js client instead (one channel per server),
 *   a row per client; and the system `bare-grpc-js`, a bare grpc-js server answering both calls with
 *   constants (bare-lro-server.ts), gives each client's physical limit: longrun ÷ bare is printed per client.
 * - library (on request): longrun's end to end without RPC, on the peers' terms — each job started singly
 *   with `server.operations.start` and awaited with `result()` in the process that runs the handlers
 *   (library-worker.ts); the peers' rows are their end-to-end mode again, in the same run.
 *
 * Plus PostgreSQL's physical limit in the same run (one INSERT per transaction, 1 and 8 clients, with and
 * without a pg_notify in the transaction), and for every PostgreSQL run commits and WAL flushes per job.
 *
 *   npm run bench -- throughput [--n 20000] [--inflight 64] [--systems a,b,…] [--modes drain,e2e,library] [--client lean,grpc-js]
 *                               [--warmup 200] [--handler demo|noop] [--profile DIR]
 *                               [--baseline REV | --baseline-dir DIR] [--rounds 2]
 *
 * --handler noop (the default) runs longrun with a Demo/Sleep handler that only returns, as the peers' jobs
 * do; --handler demo runs the demo's Sleep(0) instead, which writes its progress once before returning.
 * --profile writes a CPU profile of each longrun process into DIR/<system>-<mode>/<pid>.cpuprofile
 * (bench/support/cpu-profile.ts); open it in Chrome DevTools or summarize its self time.
 * Results: a table on stdout, bench/results/throughput.{jsonl,md,svg}.
 *
 * --baseline REV runs longrun's own rows from this tree and from revision REV, side by side, and prints
 * current ÷ baseline per row (baseline.ts; results in bench/results/throughput-baseline.{jsonl,md}).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../support/args.js";
import { appendJsonLines, machine, RESULTS_DIR } from "../support/measure.js";
import { longrunDrain } from "./longrun-drain.js";
import { longrunEndToEndResult } from "./longrun-e2e.js";
import { longrunLibrary } from "./longrun-library.js";
import { bareEndToEnd } from "./bare-e2e.js";
import type { LoadClientKind } from "../support/load-client.js";
import { MODE_LABEL, type Mode } from "./modes.js";
import { peerDrain, peerEndToEnd } from "./peer-modes.js";
import { postgresLimit } from "./postgres-limit.js";
import { describe, renderReport, throughputChart, versions } from "./report.js";
import { POSTGRES_LIMIT, systemSpecs, type LongrunHandler, type ThroughputResult } from "./systems.js";

/** What `npm run bench -- throughput` was asked (bench/throughput/index.ts declares the flags). */
export interface ThroughputArgs {
  n: number;
  inflight: number;
  /** Undefined: every system and PostgreSQL's limit. */
  systems: string[] | undefined;
  modes: Mode[];
  warmup: number;
  /** End to end: the load generator's clients, a row each. */
  client: LoadClientKind[];
  handler: LongrunHandler;
  profile: string | undefined;
  /** A git revision to compare longrun's rows with (baseline.ts), or a checkout of one. */
  baseline: string | undefined;
  "baseline-dir": string | undefined;
  rounds: number;
}

export async function run(args: ThroughputArgs): Promise<void> {
  const { n, inflight, warmup, modes, handler } = args;
  const clients = args.client;
  if (args.baseline !== undefined || args["baseline-dir"] !== undefined) {
    if (args.baseline !== undefined && args["baseline-dir"] !== undefined) throw new UsageError("throughput: --baseline or --baseline-dir, not both");
    const { compareWithBaseline } = await import("./baseline.js");
    return compareWithBaseline({ ...args, baselineDir: args["baseline-dir"] });
  }
  const specs = systemSpecs();
  const wanted = args.systems ?? [...specs.map((s) => s.id), POSTGRES_LIMIT];
  const runId = new Date().toISOString();
  const env = { ...machine(), ...(await versions()) };
  console.log(`throughput: N ${n}, ${inflight} in flight (end to end), run ${runId}`);
  console.log(env);

  const results: ThroughputResult[] = [];
  for (const spec of specs.filter((s) => wanted.includes(s.id))) {
    for (const mode of modes) {
      console.log(`\n${spec.label}: ${MODE_LABEL[mode]}…`);
      const rows: ThroughputResult[] = [];
      if ("longrun" in spec) {
        const config = { ...spec.longrun, handler };
        if (mode === "drain") rows.push(await longrunDrain(spec, config, n, args.profile));
        else if (mode === "library") rows.push(await longrunLibrary(spec, config, n, inflight, warmup, args.profile));
        else for (const client of clients) rows.push(await longrunEndToEndResult(spec, config, n, inflight, warmup, args.profile, client));
      } else if ("bare" in spec) {
        if (mode !== "e2e") {
          console.log("  (end to end only)");
          continue;
        }
        for (const client of clients) rows.push(await bareEndToEnd(spec, n, inflight, warmup, client, args.profile));
      } else {
        const system = await spec.peer();
        rows.push(mode === "drain" ? await peerDrain(system, n) : await peerEndToEnd(system, n, inflight, warmup, mode));
      }
      for (const result of rows) console.log(`  ${result.client ? `${result.client} client: ` : ""}${describe(result)}`);
      results.push(...rows);
    }
  }
  const limits = wanted.includes(POSTGRES_LIMIT) ? await postgresLimit() : [];

  const report = renderReport(results, limits, { n, inflight, runId, env, handler });
  console.log("\n" + report);
  appendJsonLines("throughput.jsonl", [
    ...results.map((r) => ({ bench: "throughput", runId, ...r, ...(r.system.startsWith("longrun") ? { longrunHandler: handler } : {}), environment: env })),
    ...limits.map((l) => ({ bench: "throughput", runId, system: POSTGRES_LIMIT, ...l, environment: env })),
  ]);
  writeFileSync(join(RESULTS_DIR, "throughput.md"), report);
  writeFileSync(join(RESULTS_DIR, "throughput.svg"), throughputChart(results, n, inflight, handler));
  console.log(`written: ${RESULTS_DIR}throughput.{jsonl,md,svg}`);
}
