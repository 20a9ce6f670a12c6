/**
 * `npm run bench -- <name> [flags]` runs one benchmark; `npm run bench -- --help` lists them all with their
 * flags, `npm run bench -- <name> --help` one. None runs in `npm test`.
 */
import { parseBenchmarkArgs, usage, UsageError, type Benchmark } from "./support/args.js";
import { auth } from "./auth/index.js";
import { fairness } from "./fairness/index.js";
import { floor } from "./floor/index.js";
import { ids } from "./ids/index.js";
import { metrics } from "./metrics/index.js";
import { latency } from "./latency/index.js";
import { list } from "./list/index.js";
import { notify } from "./notify/index.js";
import { quick } from "./quick/index.js";
import { rpc } from "./rpc/index.js";
import { soak } from "./soak/index.js";
import { e2e, throughput } from "./throughput/index.js";
import { wait, wake } from "./wait/index.js";
import { watch } from "./watch/index.js";

// Each definition is typed by its own flags; the registry only needs to parse and run them.
const benchmarks = [quick, throughput, floor, ids, latency, e2e, wait, wake, rpc, list, auth, metrics, notify, watch, fairness, soak] as unknown as Benchmark[];

const [name, ...argv] = process.argv.slice(2);
const benchmark = benchmarks.find((b) => b.name === name);
if (!benchmark) {
  const help = name === "--help" || name === "-h";
  const text = [`usage: npm run bench -- <${benchmarks.map((b) => b.name).join("|")}> [flags]`, "", ...benchmarks.map((b) => usage(b) + "\n")].join("\n");
  (help ? console.log : console.error)(help ? text : `${name === undefined ? "no benchmark named" : `unknown benchmark ${name}`}\n\n${text}`);
  process.exit(help ? 0 : 2);
}
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(usage(benchmark));
  process.exit(0);
}
let args: ReturnType<typeof parseBenchmarkArgs>;
try {
  args = parseBenchmarkArgs(benchmark, argv);
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n\n${usage(benchmark)}`);
  process.exit(2);
}
try {
  await benchmark.run(args);
} catch (error) {
  // Flags that parse but do not go together are found by the benchmark itself.
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exit(2);
}
