/**
 * What the web dashboard's live stream costs, how soon it tells, and whether it tells everything (issue 18):
 * one `longrun serve --demo` process (a SQLite file, or a fresh PostgreSQL schema dropped after), loaded with
 * Demo/Sleep 0 started at `--rate` per second over gRPC, open loop (bench/support/grpc-h2.ts; each start on
 * its own schedule, whatever the replies do, at most MAX_IN_FLIGHT unanswered — beyond that a start is
 * shed and counted), so that about that many operations finish per second. Two variants take turns in
 * every round on the same server: **streams**, with N `GET /v1/operations:watch` event streams open (plain
 * node:http clients in a child process, bench/watch/streams.ts, opened before the window and closed after
 * it), and **none**, without. After each window the bench waits until no operation is left not done (so
 * that a run's backlog — a cold server's first run falls far behind — never finishes in the next run's
 * window) and reports how long that took.
 *
 * Per run: the server's CPU over the window (from /proc) per operation done in the window (ListOperations
 * with an `end_time` filter over the window, read after it), done/s, and on PostgreSQL its backends' CPU;
 * the load generator's and the stream process's CPU, per operation too. After the backlog, both variants
 * wait GRACE_MS more (the last batches reach the streams).
 * Update latency, streams only: for every operation whose start RPC returned in the window and every
 * stream, the time from that return (the load generator's clock) to when the stream first received its
 * name in a `changes` event (the stream process's clock; both are performance.timeOrigin + now() on one
 * machine) — p50/p99/max over all (stream, operation) pairs of the measured runs; goal p99 < 250 ms. A
 * pair never received is a miss (a stream told to resync may miss names legitimately; those are counted apart).
 *
 * The start RPC's own round trip (request sent → reply) is reported too: a stream hears of an operation as
 * soon as its creation commits, which under load is often before the reply reaches the load generator.
 * `--profile DIR` writes a CPU profile of the server's first measured run of each variant and prints its
 * Store calls per operation.
 *
 *   npm run bench -- watch [--seconds 5] [--repeat 3] [--warmup 3] [--streams 100] [--rate 1000] [--store sqlite|postgres] [--profile DIR]
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { H2GrpcClient } from "../support/grpc-h2.js";
import { methodPath } from "../support/grpc-raw.js";
import { backendCpu, longrunStore, type LongrunStore } from "../support/longrun-store.js";
import { appendJsonLines, machine, markdownTable, median, percentile, RESULTS_DIR, sleep } from "../support/measure.js";
import { procCpuSeconds, serverSource, startBenchServer, type BenchServer } from "../support/server-process.js";
import type { StreamsReport } from "./streams.js";

type Variant = "streams" | "none";
const VARIANTS: readonly Variant[] = ["streams", "none"];
const GOAL_P99_MS = 250;
const SLEEP_PATH = methodPath(Demo.method.sleep);
const STREAMS = fileURLToPath(new URL("./streams.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Start RPCs unanswered beyond which the next start is shed (an overloaded server must not grow the backlog for ever). */
const MAX_IN_FLIGHT = 2000;
/** After each window and its backlog: the last batches (every 150 ms) reach the streams. */
const GRACE_MS = 500;
const DRAIN_TIMEOUT_MS = 120_000;

export interface WatchArgs {
  seconds: number;
  repeat: number;
  warmup: number;
  streams: number;
  rate: number;
  store: "sqlite" | "postgres";
  profile: string | undefined;
}

interface Measurement {
  variant: Variant;
  round: number;
  started: number;
  shed: number;
  errors: number;
  doneOps: number;
  seconds: number;
  donePerSecond: number;
  /** How long after the window the last operation started was done. */
  drainMs: number;
  serverCpuMicrosPerOp: number;
  postgresCpuMicrosPerOp?: number;
  /** The bench process (the load generator) per operation. */
  clientCpuMicrosPerOp: number;
  /** Streams only: the stream process per operation. */
  streamsCpuMicrosPerOp?: number;
  /** Streams only: what the streams saw. */
  pairs?: number;
  misses?: number;
  missesAfterResync?: number;
  resyncs?: number;
  endedEarly?: number;
  malformed?: number;
  eventsPerStreamPerSecond?: number;
  bytesPerStreamPerSecond?: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  latencyMaxMs?: number;
  /** The start RPC's round trip, request sent → reply, ms. */
  startRpcP50Ms: number;
  startRpcP99Ms: number;
}

interface StreamsProcess {
  child: ChildProcess;
  cpuSeconds(): number;
  open(count: number): Promise<void>;
  close(): Promise<StreamsReport>;
  exit(): Promise<void>;
}

const now = (): number => performance.timeOrigin + performance.now();

export async function run(args: WatchArgs): Promise<void> {
  if (args.rate <= 0 || args.seconds <= 0 || args.streams <= 0) throw new Error("--rate, --seconds and --streams must be > 0");
  // The sources the server loads now, before anything can change them during the run.
  const source = serverSource();
  const storage = await longrunStore({ store: args.store, instances: 1 });
  let server: BenchServer | undefined;
  let client: H2GrpcClient | undefined;
  let streams: StreamsProcess | undefined;
  const measurements: Measurement[] = [];
  /** Every (stream, operation) latency of the measured runs, ms. */
  const latencies: number[] = [];
  try {
    if (args.profile !== undefined) mkdirSync(args.profile, { recursive: true });
    server = await startBenchServer({ args: ["--demo"], env: storage.env, instruments: args.profile !== undefined });
    client = new H2GrpcClient(server.grpcAddress);
    streams = await startStreams(`${server.httpUrl}/v1/operations:watch`);
    const target = { server, client, streams, storage };
    for (const variant of VARIANTS) {
      const m = await once(target, variant, 0, args, args.warmup, []);
      console.log(`warm-up ${variant}: ${m.donePerSecond.toFixed(0)} done/s, all done ${ms(m.drainMs)} after the window`);
    }
    for (let round = 1; round <= args.repeat; round++) {
      // Each round starts with the other variant, so neither always runs right after the other.
      const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const m = await once(target, variant, round, args, args.seconds, latencies);
        measurements.push(m);
        console.log(
          `round ${round} ${variant}: ${m.donePerSecond.toFixed(0)} done/s, ${m.serverCpuMicrosPerOp.toFixed(0)} µs server CPU/op, all done ${ms(m.drainMs)} after the window` +
            (m.latencyP99Ms === undefined ? "" : `, latency p50 ${ms(m.latencyP50Ms!)} p99 ${ms(m.latencyP99Ms)}, ${m.misses} misses of ${fmt(m.pairs!)}`) +
            (m.errors || m.shed ? `, ${m.errors} failed, ${m.shed} shed` : ""),
        );
      }
    }
  } finally {
    client?.close();
    await streams?.exit();
    await server?.stop();
    await storage.remove();
  }
  report(measurements, latencies, args, source);
}

interface Target {
  server: BenchServer;
  client: H2GrpcClient;
  streams: StreamsProcess;
  storage: LongrunStore;
}

/** One run of `variant`: streams opened (or not), the load for `seconds`, the grace, the streams' report. */
async function once(t: Target, variant: Variant, round: number, args: WatchArgs, seconds: number, latencies: number[]): Promise<Measurement> {
  if (variant === "streams") await t.streams.open(args.streams);
  const profiled = args.profile !== undefined && round === 1;
  if (profiled) {
    await t.server.storeCalls();
    await t.server.startCpuProfile();
  }
  const sleepRequest = toBinary(SleepRequestSchema, create(SleepRequestSchema, { duration: durationFromMs(0) }));
  const cpuBefore = t.server.cpuSeconds();
  const pgBefore = await backendCpu(t.storage);
  const clientCpuBefore = process.cpuUsage();
  const streamsCpuBefore = t.streams.cpuSeconds();
  /** When each operation's start RPC returned, by name. */
  const starts = new Map<string, number>();
  const roundTrips: number[] = [];
  const count = Math.round(args.rate * seconds);
  const beganWall = now();
  const began = performance.now();
  let inFlight = 0;
  let errors = 0;
  let shed = 0;
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const wait = began + (1000 * i) / args.rate - performance.now();
    // setTimeout's granularity is a millisecond: starts due within one go out together.
    if (wait >= 1) await sleep(wait);
    if (inFlight >= MAX_IN_FLIGHT) {
      shed++;
      continue;
    }
    inFlight++;
    const sent = performance.now();
    const call: Promise<void> = t.client.call(SLEEP_PATH, sleepRequest).then(
      (bytes) => {
        const returned = now();
        roundTrips.push(performance.now() - sent);
        starts.set(fromBinary(OperationSchema, bytes).name, returned);
      },
      () => void errors++,
    );
    pending.add(call);
    void call.finally(() => {
      inFlight--;
      pending.delete(call);
    });
  }
  const rest = began + seconds * 1000 - performance.now();
  if (rest > 0) await sleep(rest);
  const endWall = now();
  const cpu = t.server.cpuSeconds() - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const streamsCpu = t.streams.cpuSeconds() - streamsCpuBefore;
  const pgAfter = await backendCpu(t.storage);
  if (profiled) {
    await t.server.stopCpuProfile(join(args.profile!, `watch-${args.store}-${variant}.cpuprofile`));
    const all = await t.server.storeCalls();
    const calls = Object.entries(all).filter(([k]) => !k.includes("."));
    console.log(`  ${variant} store calls per op started: ${calls.map(([k, v]) => `${k} ${(v / Math.max(1, count)).toFixed(3)}`).join(", ")}`);
    // The watch's one read per batch: how long it held the server (SQLite reads synchronously, on the event loop).
    if (all["getViews"]) console.log(`  getViews: ${all["getViews"]} calls, ${((all["getViews.items"] ?? 0) / all["getViews"]).toFixed(0)} ids each, ${((all["getViews.ms"] ?? 0) / all["getViews"]).toFixed(1)} ms each (longest ${(all["getViews.maxMs"] ?? 0).toFixed(1)} ms)`);
  }
  await Promise.all(pending);
  const drainMs = await drain(t.server);
  await sleep(GRACE_MS);
  const doneOps = await countDone(t.server, beganWall, endWall);
  const perOp = (micros: number): number => micros / Math.max(1, doneOps);
  let pgCpu = 0;
  // A backend that started during the run counts whole; one that ended during it is lost (the pool keeps them).
  for (const [pid, s] of pgAfter ?? []) pgCpu += s - (pgBefore?.get(pid) ?? 0);
  const m: Measurement = {
    variant,
    round,
    started: starts.size,
    shed,
    errors,
    doneOps,
    seconds,
    donePerSecond: doneOps / seconds,
    drainMs,
    serverCpuMicrosPerOp: perOp(1e6 * cpu),
    ...(pgAfter ? { postgresCpuMicrosPerOp: perOp(1e6 * pgCpu) } : {}),
    clientCpuMicrosPerOp: perOp(clientCpu.user + clientCpu.system),
    startRpcP50Ms: percentile(roundTrips, 0.5),
    startRpcP99Ms: percentile(roundTrips, 0.99),
  };
  if (variant === "streams") {
    const seen = await t.streams.close();
    const own: number[] = [];
    let misses = 0;
    let missesAfterResync = 0;
    const index = new Map<string, number>();
    seen.names.forEach((name, i) => index.set(name, i));
    for (const [name, returned] of starts) {
      const i = index.get(name);
      for (let s = 0; s < seen.seen.length; s++) {
        const heard = i === undefined ? Number.NaN : seen.seen[s]![i]!;
        if (Number.isNaN(heard)) {
          if (seen.resyncs[s]! > 0) missesAfterResync++;
          else misses++;
        } else own.push(heard - returned);
      }
    }
    if (round > 0) for (const l of own) latencies.push(l);
    const sorted = Float64Array.from(own).sort();
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
    const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
    Object.assign(m, {
      streamsCpuMicrosPerOp: perOp(1e6 * streamsCpu),
      pairs: starts.size * seen.seen.length,
      misses,
      missesAfterResync,
      resyncs: sum(seen.resyncs),
      endedEarly: seen.endedEarly.filter(Boolean).length,
      malformed: seen.malformed,
      // Per second of the window (the few events after it, while the backlog finishes, included).
      eventsPerStreamPerSecond: sum(seen.events) / seen.events.length / seconds,
      bytesPerStreamPerSecond: sum(seen.bytes) / seen.bytes.length / seconds,
      latencyP50Ms: at(0.5),
      latencyP99Ms: at(0.99),
      latencyMaxMs: sorted[sorted.length - 1] ?? Number.NaN,
    });
  }
  return m;
}

/** Waits until ListOperations finds no operation not done; returns how long that took, ms. */
async function drain(server: BenchServer): Promise<number> {
  const began = performance.now();
  for (;;) {
    const response = await fetch(`${server.httpUrl}/v1/operations?pageSize=1&filter=${encodeURIComponent("done = false")}`);
    if (!response.ok) throw new Error(`GET /v1/operations: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { operations?: unknown[] };
    if ((body.operations?.length ?? 0) === 0) return performance.now() - began;
    if (performance.now() - began > DRAIN_TIMEOUT_MS) throw new Error(`operations still not done ${DRAIN_TIMEOUT_MS} ms after the window`);
    await sleep(50);
  }
}

/** Operations done in [from, to) (wall-clock ms), as ListOperations lists them by end_time. */
async function countDone(server: BenchServer, from: number, to: number): Promise<number> {
  const filter = `end_time >= "${new Date(from).toISOString()}" AND end_time < "${new Date(to).toISOString()}"`;
  let count = 0;
  let token = "";
  do {
    const response = await fetch(`${server.httpUrl}/v1/operations?pageSize=1000&filter=${encodeURIComponent(filter)}${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
    if (!response.ok) throw new Error(`GET /v1/operations: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { operations?: unknown[]; nextPageToken?: string };
    count += body.operations?.length ?? 0;
    token = body.nextPageToken ?? "";
  } while (token !== "");
  return count;
}


async function startStreams(url: string): Promise<StreamsProcess> {
  const child = fork(STREAMS, [url], { cwd: ROOT, execArgv: ["--import", "tsx"], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const reply = <T>(kind: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { kind: string; message?: string }): void => {
        if (m.kind !== kind && m.kind !== "error") return;
        child.off("message", onMessage);
        child.off("exit", onExit);
        if (m.kind === "error") reject(new Error(`streams: ${m.message}`));
        else resolve(m as T);
      };
      const onExit = (code: number | null): void => reject(new Error(`the stream process exited (${code})`));
      child.on("message", onMessage);
      child.once("exit", onExit);
    });
  await reply("ready");
  const pid = child.pid as number;
  let lastCpu = 0;
  const cpuSeconds = (): number => {
    if (child.exitCode === null) lastCpu = procCpuSeconds(pid);
    return lastCpu;
  };
  return {
    child,
    cpuSeconds,
    open: async (count) => {
      const opened = reply("opened");
      child.send({ kind: "open", count });
      await opened;
    },
    close: async () => {
      const closed = reply<{ report: StreamsReport }>("closed");
      child.send({ kind: "close" });
      return (await closed).report;
    },
    exit: async () => {
      if (child.exitCode === null && child.signalCode === null) child.send({ kind: "exit" });
      await exited;
    },
  };
}

function report(measurements: readonly Measurement[], latencies: number[], args: WatchArgs, source: ReturnType<typeof serverSource>): void {
  const date = new Date().toISOString();
  const host = machine();
  const sourceText = `commit ${source.commit}${source.uncommittedSrc.length ? ` + uncommitted ${source.uncommittedSrc.join(", ")}` : ""}`;
  const of = (variant: Variant) => measurements.filter((m) => m.variant === variant);
  const med = (variant: Variant, key: (m: Measurement) => number) => median(of(variant).map(key));
  const range = (variant: Variant, key: (m: Measurement) => number, digits = 0) => {
    const values = of(variant).map(key);
    const f = (n: number) => (digits ? n.toFixed(digits) : fmt(n));
    return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
  };
  const done = (m: Measurement) => m.donePerSecond;
  const cpu = (m: Measurement) => m.serverCpuMicrosPerOp;
  const pg = (m: Measurement) => m.postgresCpuMicrosPerOp ?? 0;
  const withPg = args.store === "postgres";
  // Each round's streams / none: the two ran back to back, so a noisy neighbour moves both.
  const rounds = of("streams").map((m) => ({ m, o: of("none").find((o) => o.round === m.round)! }));
  // The server process's CPU alone: the watch runs there; PostgreSQL's backends (shown apart) add one read per batch, and noise.
  const cpuRatios = rounds.map(({ m, o }) => cpu(m) / cpu(o));
  const cpuRatio = med("streams", cpu) / med("none", cpu);
  const doneRatio = med("streams", done) / med("none", done);
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
  const latency = { pairs: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN, beforeReply: sorted.filter((l) => l < 0).length };
  const sum = (key: (m: Measurement) => number) => of("streams").reduce((a, m) => a + key(m), 0);
  const pairs = sum((m) => m.pairs ?? 0);
  const misses = sum((m) => m.misses ?? 0);
  const missesAfterResync = sum((m) => m.missesAfterResync ?? 0);
  const resyncs = sum((m) => m.resyncs ?? 0);
  const endedEarly = sum((m) => m.endedEarly ?? 0);
  const malformed = sum((m) => m.malformed ?? 0);
  const errors = measurements.reduce((a, m) => a + m.errors, 0);
  const shedTotal = measurements.reduce((a, m) => a + m.shed, 0);
  const summary = {
    doneStreams: med("streams", done), doneNone: med("none", done), doneRatio,
    cpuStreams: med("streams", cpu), cpuNone: med("none", cpu), postgresCpuStreams: med("streams", pg), postgresCpuNone: med("none", pg), cpuRatio, cpuRatiosPerRound: cpuRatios,
    streamsCpu: med("streams", (m) => m.streamsCpuMicrosPerOp ?? 0), clientCpuStreams: med("streams", (m) => m.clientCpuMicrosPerOp), clientCpuNone: med("none", (m) => m.clientCpuMicrosPerOp),
    latency, pairs, misses, missesAfterResync, resyncs, endedEarly, malformed, errors, shed: shedTotal,
    startRpcP50Streams: med("streams", (m) => m.startRpcP50Ms), startRpcP99Streams: med("streams", (m) => m.startRpcP99Ms), startRpcP50None: med("none", (m) => m.startRpcP50Ms), startRpcP99None: med("none", (m) => m.startRpcP99Ms),
    eventsPerStreamPerSecond: med("streams", (m) => m.eventsPerStreamPerSecond ?? 0), bytesPerStreamPerSecond: med("streams", (m) => m.bytesPerStreamPerSecond ?? 0),
  };
  appendJsonLines("watch.jsonl", [
    ...measurements.map((m) => ({ bench: "watch", kind: "round", date, store: args.store, streams: args.streams, rate: args.rate, ...m })),
    { bench: "watch", kind: "summary", date, machine: host, source, store: args.store, seconds: args.seconds, repeat: args.repeat, warmup: args.warmup, streams: args.streams, rate: args.rate, ...summary },
  ]);
  const throughput = markdownTable(
    ["offered /s", "streams", `done/s with ${args.streams} streams`, "done/s without", "with / without", "server CPU per op with, µs", "without, µs", "CPU with / without (medians)", "per round", ...(withPg ? ["PostgreSQL backends' CPU per op with / without"] : []), `stream clients' CPU per op`, "bench CPU per op with / without", "start RPC p50 / p99 with; without", "all done after the window (max)", "failed / shed starts"],
    [[
      fmt(args.rate),
      String(args.streams),
      range("streams", done),
      range("none", done),
      doneRatio.toFixed(2),
      range("streams", cpu),
      range("none", cpu),
      `**${cpuRatio.toFixed(2)}**`,
      `${median(cpuRatios).toFixed(2)} (${Math.min(...cpuRatios).toFixed(2)}–${Math.max(...cpuRatios).toFixed(2)})`,
      ...(withPg ? [`${med("streams", pg).toFixed(0)} / ${med("none", pg).toFixed(0)} µs`] : []),
      `${summary.streamsCpu.toFixed(0)} µs`,
      `${summary.clientCpuStreams.toFixed(0)} / ${summary.clientCpuNone.toFixed(0)} µs`,
      `${ms(med("streams", (m) => m.startRpcP50Ms))} / ${ms(med("streams", (m) => m.startRpcP99Ms))}; ${ms(med("none", (m) => m.startRpcP50Ms))} / ${ms(med("none", (m) => m.startRpcP99Ms))}`,
      `≤ ${ms(Math.max(...measurements.map((m) => m.drainMs)))}`,
      errors || shedTotal ? `**${errors} / ${shedTotal}**` : "0 / 0",
    ]],
  );
  const freshness = markdownTable(
    ["(stream, operation) pairs", "p50", "p99", "max", `goal p99 < ${GOAL_P99_MS} ms`, "heard before the start reply", "misses", "misses on a stream told to resync", "resyncs", "streams ended early", "events / s per stream", "KB / s per stream"],
    [[
      fmt(latency.pairs),
      ms(latency.p50),
      ms(latency.p99),
      ms(latency.max),
      latency.p99 < GOAL_P99_MS ? "met" : "**missed**",
      fmt(latency.beforeReply),
      misses ? `**${fmt(misses)}** of ${fmt(pairs)}` : `0 of ${fmt(pairs)}`,
      fmt(missesAfterResync),
      fmt(resyncs),
      endedEarly ? `**${endedEarly}**` : "0",
      summary.eventsPerStreamPerSecond.toFixed(1),
      (summary.bytesPerStreamPerSecond / 1000).toFixed(1),
    ]],
  );
  const markdown = [
    `## watch — the dashboard's live stream, ${args.store}`,
    "",
    `${date}; ${host.cpus} CPUs (${host.cpuModel}), Node ${host.node}; sources ${sourceText}; store ${args.store}. ` +
      `${args.repeat} runs of ${args.seconds} s per variant after ${args.warmup} s of warm-up each, taking turns, on one \`longrun serve --demo\`; ` +
      `load: Demo/Sleep 0 started at ${fmt(args.rate)}/s over gRPC, open loop. With: ${args.streams} \`GET /v1/operations:watch\` streams open (node:http, in a process of their own); without: none. ` +
      `CPU per operation done in the window (ListOperations by end_time); latency: start RPC returned (load generator) → the stream's first \`changes\` event naming the operation, every (stream, operation) pair of the measured runs.`,
    "",
    throughput,
    freshness,
    malformed ? `**${malformed} malformed events.**\n` : "",
  ].join("\n");
  writeFileSync(join(RESULTS_DIR, "watch.md"), markdown);
  console.log("\n" + markdown);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en");
}

function ms(n: number): string {
  return `${Math.abs(n) < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;
}
