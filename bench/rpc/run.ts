/**
 * GetOperation throughput: longrun (`longrun serve --demo` on SQLite, getting one done operation) against a
 * bare server doing only what any server must (bench/rpc/bare-server.ts: decode the request, encode the same
 * Operation), each in a process of its own, over gRPC (a grpc-js client: one channel, `c` calls in flight,
 * for a fixed time) and REST (`GET /v1/operations/{id}` with autocannon, `c` connections). Each pair is
 * warmed up, then measured `repeat` times, longrun and bare taking turns (so drift on a noisy machine hits
 * both); reported: medians with min–max, and longrun/bare. With --profile, one more longrun process runs
 * each transport at the highest concurrency under V8's CPU profiler (bench/support/serve-instrumented.ts), and its top
 * self-time functions are added; the profiles are kept in bench/results/profiles/.
 *
 *   npm run bench -- rpc [--seconds 5] [--repeat 5] [--warmup 5] [--concurrency 1,64] [--transports grpc,rest] [--profile]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { profileMarkdown, summarizeProfile } from "../support/profile-summary.js";
import { encodeRequest, keepInFlight, methodPath, ownChannel, rawCall } from "../support/grpc-raw.js";
import { appendJsonLines, machine, markdownTable, percentile, RESULTS_DIR } from "../support/measure.js";
import { serverSource, startBenchServer, type BenchServer } from "../support/server-process.js";
import { autocannon } from "../support/autocannon.js";

type Transport = "grpc" | "rest";
type Target = "longrun" | "bare";


interface Load {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** The server process's CPU time over the run, as a share of one core: below 100%, it was not the bottleneck. */
  serverCpuPercent: number;
  /** Server CPU time per request: what a call costs the server, however fast the client could send. */
  serverCpuMicrosPerRequest: number;
}

export interface Measurement extends Load {
  transport: Transport;
  concurrency: number;
  target: Target;
  round: number;
}

const BARE_SERVER = fileURLToPath(new URL("./bare-server.ts", import.meta.url));
const GET_PATH = methodPath(Operations.method.getOperation);
const GOAL_RATIO = 0.8;

/** What `npm run bench -- rpc` was asked (bench/rpc/index.ts declares the flags). */
export interface RpcArgs {
  seconds: number;
  repeat: number;
  warmup: number;
  concurrency: number[];
  transports: Transport[];
  profile: boolean;
}

export async function run(args: RpcArgs): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-rpc-"));
  try {
    const { measurements, profiles } = await measureRpc(args, dir);
    report(measurements, { seconds: args.seconds, repeat: args.repeat, warmup: args.warmup }, profiles);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rounds of `run` without their report (`npm run bench -- quick` takes the medians), in `dir`. */
export async function measureRpc(args: RpcArgs, dir: string): Promise<{ measurements: Measurement[]; profiles: string[] }> {
  const { seconds, repeat, warmup, transports } = args;
  const concurrencies = args.concurrency;
  const measurements: Measurement[] = [];
  const profiles: string[] = [];
  // Measured without bench/support/serve-instrumented.ts's wrappers, as the bare server runs without any.
  const longrun = await startLongrun(join(dir, "longrun.db"), { instruments: false });
  const bare = await startBenchServer({ args: [], entry: BARE_SERVER, env: { BARE_OPERATION: longrun.operationBytes.toString("base64") } });
  const targets: Record<Target, Endpoint> = {
    longrun: endpointOf(longrun.server, longrun.id),
    bare: endpointOf(bare, longrun.id),
  };
  try {
    await checkSameAnswers(targets);
    for (const transport of transports) {
      for (const concurrency of concurrencies) {
        for (const target of ["longrun", "bare"] as const) await load(targets[target], transport, concurrency, warmup);
        for (let round = 1; round <= repeat; round++) {
          // Taking turns, first one then the other, so neither always runs right after the warm-up.
          const order: Target[] = round % 2 === 1 ? ["longrun", "bare"] : ["bare", "longrun"];
          for (const target of order) {
            const result = await load(targets[target], transport, concurrency, seconds);
            measurements.push({ transport, concurrency, target, round, ...result });
            console.log(
              `${transport} c=${concurrency} round ${round} ${target}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
                `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, server CPU ${result.serverCpuPercent.toFixed(0)}% ` +
                `(${result.serverCpuMicrosPerRequest.toFixed(0)} µs/req)${result.errors ? `, ${result.errors} errors` : ""}`,
            );
          }
        }
      }
    }
  } finally {
    for (const t of Object.values(targets)) t.close();
    await longrun.server.stop();
    await bare.stop();
  }

  if (args.profile) {
    const profileDir = join(RESULTS_DIR, "profiles");
    mkdirSync(profileDir, { recursive: true });
    const concurrency = Math.max(...concurrencies);
    for (const transport of transports) {
      const profiled = await startLongrun(join(dir, `profiled-${transport}.db`), { instruments: true });
      const endpoint = endpointOf(profiled.server, profiled.id);
      await load(endpoint, transport, concurrency, warmup);
      await profiled.server.startCpuProfile();
      const result = await load(endpoint, transport, concurrency, seconds * 2);
      const path = join(profileDir, `rpc-${transport}-${concurrency}.cpuprofile`);
      await profiled.server.stopCpuProfile(path);
      endpoint.close();
      await profiled.server.stop();
      const title = `longrun server, GetOperation over ${transport}, ${concurrency} in flight (${result.requestsPerSecond.toFixed(0)} req/s under the profiler): ${path.slice(RESULTS_DIR.length)}`;
      profiles.push(profileMarkdown(summarizeProfile(path, 20), title));
    }
  }
  return { measurements, profiles };
}

interface Endpoint {
  server: BenchServer;
  grpcClient: grpc.Client;
  restUrl: string;
  getRequest: Buffer;
  close(): void;
}

function endpointOf(server: BenchServer, id: string): Endpoint {
  const grpcClient = ownChannel(server.grpcAddress);
  return {
    server,
    grpcClient,
    restUrl: `${server.httpUrl}/v1/operations/${id}`,
    getRequest: encodeRequest(Operations.method.getOperation, { name: `operations/${id}` }),
    close: () => grpcClient.close(),
  };
}

/** A longrun server on a fresh SQLite file holding one done Demo/Sleep operation, and that operation. */
async function startLongrun(path: string, options: { instruments: boolean }): Promise<{ server: BenchServer; id: string; operationBytes: Buffer }> {
  const server = await startBenchServer({ args: ["--demo"], env: { LONGRUN_STORE: `sqlite:${path}` }, instruments: options.instruments });
  const client = ownChannel(server.grpcAddress);
  try {
    const started = fromBinary(
      OperationSchema,
      (await rawCall(client, methodPath(Demo.method.sleep), encodeRequest(Demo.method.sleep, { duration: durationFromMs(0) }))).bytes,
    );
    const waited = await rawCall(
      client,
      methodPath(Operations.method.waitOperation),
      encodeRequest(Operations.method.waitOperation, { name: started.name, timeout: durationFromMs(10_000) }),
    );
    if (!fromBinary(OperationSchema, waited.bytes).done) throw new Error(`${started.name} is not done after 10 s`);
    const got = await rawCall(client, GET_PATH, encodeRequest(Operations.method.getOperation, { name: started.name }));
    return { server, id: started.name.slice("operations/".length), operationBytes: got.bytes };
  } finally {
    client.close();
  }
}

/** The bare server must answer byte for byte what longrun answers, or the comparison is not fair. */
async function checkSameAnswers(targets: Record<Target, Endpoint>): Promise<void> {
  const [longrunGrpc, bareGrpc] = await Promise.all(
    [targets.longrun, targets.bare].map(async (t) => (await rawCall(t.grpcClient, GET_PATH, t.getRequest)).bytes),
  );
  if (!longrunGrpc?.equals(bareGrpc as Buffer)) throw new Error("the bare gRPC server's Operation differs from longrun's");
  const [longrunRest, bareRest] = await Promise.all([targets.longrun, targets.bare].map(async (t) => (await fetch(t.restUrl)).text()));
  if (longrunRest !== bareRest) throw new Error(`the bare REST body differs from longrun's:\n${longrunRest}\n---\n${bareRest}`);
}

type ClientLoad = Omit<Load, "serverCpuPercent" | "serverCpuMicrosPerRequest">;

async function load(endpoint: Endpoint, transport: Transport, concurrency: number, seconds: number): Promise<Load> {
  const cpuBefore = endpoint.server.cpuSeconds();
  const began = performance.now();
  const result = await (transport === "grpc" ? grpcLoad(endpoint, concurrency, seconds) : restLoad(endpoint, concurrency, seconds));
  const elapsed = (performance.now() - began) / 1000;
  const cpu = endpoint.server.cpuSeconds() - cpuBefore;
  return {
    ...result,
    serverCpuPercent: (100 * cpu) / elapsed,
    serverCpuMicrosPerRequest: (1e6 * cpu) / (result.requestsPerSecond * elapsed),
  };
}

function grpcLoad(endpoint: Endpoint, concurrency: number, seconds: number): Promise<ClientLoad> {
  return keepInFlight(endpoint.grpcClient, GET_PATH, endpoint.getRequest, { concurrency, seconds });
}

async function restLoad(endpoint: Endpoint, concurrency: number, seconds: number): Promise<ClientLoad> {
  const result = await autocannon({ url: endpoint.restUrl, connections: concurrency, duration: seconds, pipelining: 1 });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

interface Summary {
  transport: Transport;
  concurrency: number;
  longrun: Spread;
  bare: Spread;
  ratio: number;
  longrunP50Ms: number;
  bareP50Ms: number;
  longrunCpuPercent: number;
  bareCpuPercent: number;
  longrunCpuMicrosPerRequest: number;
  bareCpuMicrosPerRequest: number;
  errors: number;
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(values: readonly number[]): Spread {
  return { median: percentile(values, 0.5), min: Math.min(...values), max: Math.max(...values) };
}

function report(measurements: readonly Measurement[], settings: { seconds: number; repeat: number; warmup: number }, profiles: readonly string[]): void {
  const summaries: Summary[] = [];
  const keys = [...new Set(measurements.map((m) => `${m.transport} ${m.concurrency}`))];
  for (const key of keys) {
    const of = (target: Target): Measurement[] => measurements.filter((m) => `${m.transport} ${m.concurrency}` === key && m.target === target);
    const [longrun, bare] = [of("longrun"), of("bare")];
    const first = longrun[0] as Measurement;
    const summary: Summary = {
      transport: first.transport,
      concurrency: first.concurrency,
      longrun: spread(longrun.map((m) => m.requestsPerSecond)),
      bare: spread(bare.map((m) => m.requestsPerSecond)),
      ratio: 0,
      longrunP50Ms: percentile(longrun.map((m) => m.p50Ms), 0.5),
      bareP50Ms: percentile(bare.map((m) => m.p50Ms), 0.5),
      longrunCpuPercent: percentile(longrun.map((m) => m.serverCpuPercent), 0.5),
      bareCpuPercent: percentile(bare.map((m) => m.serverCpuPercent), 0.5),
      longrunCpuMicrosPerRequest: percentile(longrun.map((m) => m.serverCpuMicrosPerRequest), 0.5),
      bareCpuMicrosPerRequest: percentile(bare.map((m) => m.serverCpuMicrosPerRequest), 0.5),
      errors: [...longrun, ...bare].reduce((sum, m) => sum + m.errors, 0),
    };
    summary.ratio = summary.longrun.median / summary.bare.median;
    summaries.push(summary);
  }

  const date = new Date().toISOString();
  const host = machine();
  appendJsonLines("rpc.jsonl", [
    ...measurements.map((m) => ({ bench: "rpc", kind: "round", date, ...settings, ...m })),
    ...summaries.map((s) => ({ bench: "rpc", kind: "summary", date, machine: host, source: serverSource(), ...settings, ...s })),
  ]);

  const rps = (s: Spread): string => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  const table = markdownTable(
    [
      "transport",
      "in flight",
      "longrun req/s, median (min–max)",
      "bare req/s, median (min–max)",
      "longrun / bare",
      "goal ≥ 80%",
      "p50 latency longrun / bare",
      "server CPU longrun / bare",
      "server CPU per request longrun / bare",
    ],
    summaries.map((s) => [
      s.transport === "grpc" ? "gRPC" : "REST",
      String(s.concurrency),
      rps(s.longrun),
      rps(s.bare),
      `${(100 * s.ratio).toFixed(0)}%`,
      s.ratio >= GOAL_RATIO ? "met" : "**missed**",
      `${s.longrunP50Ms.toFixed(2)} / ${s.bareP50Ms.toFixed(2)} ms`,
      `${s.longrunCpuPercent.toFixed(0)}% / ${s.bareCpuPercent.toFixed(0)}%`,
      `${s.longrunCpuMicrosPerRequest.toFixed(0)} / ${s.bareCpuMicrosPerRequest.toFixed(0)} µs (${(s.bareCpuMicrosPerRequest / s.longrunCpuMicrosPerRequest * 100).toFixed(0)}%)`,
    ]),
  );
  const errors = summaries.reduce((sum, s) => sum + s.errors, 0);
  const markdown = [
    "## rpc — GetOperation throughput, longrun vs a bare server",
    "",
    `${date}; ${host.cpus} CPUs (${host.cpuModel}), ${host.memoryGiB} GiB, Node ${host.node}. ` +
      `Each cell: ${settings.repeat} runs of ${settings.seconds} s after a ${settings.warmup} s warm-up, longrun and bare taking turns. ` +
      "longrun: `longrun serve --demo` on SQLite, one done operation; bare: bench/rpc/bare-server.ts (decode the request, encode the same Operation). " +
      "gRPC: one channel, a grpc-js client keeping N calls in flight; REST: autocannon, N connections (its latencies are whole milliseconds). " +
      "Client and server share the 2 cores: where a server's CPU is well under 100% of a core, the client was the bottleneck, and the CPU per " +
      "request (in brackets: bare's as a share of longrun's, the throughput ratio the server alone would reach) is the fairer comparison." +
      (errors > 0 ? ` **${errors} failed calls.**` : ""),
    "",
    table,
    ...profiles,
  ].join("\n");
  writeFileSync(join(RESULTS_DIR, "rpc.md"), markdown);
  console.log("\n" + markdown);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en");
}
