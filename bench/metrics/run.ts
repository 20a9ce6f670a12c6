/**
 * What Prometheus metrics cost: two `longrun serve --demo` processes on SQLite, one with `--no-metrics` and
 * one with metrics on (the default) and scraped every second — more often than Prometheus would — taking
 * turns in every round. Two loads over gRPC: e2e (Demo/Sleep 0, then WaitOperation until done, N in
 * flight: every hook of the runtime, the store wrapper and the endpoint wrapper is on that path) and get
 * (GetOperation of a done operation: the endpoint wrapper alone). Reported: medians with min–max, on / off,
 * and the server CPU per operation or request: the whole process's, and its main thread's alone (the one
 * thread all RPCs share: off / on of it is the ratio a server limited by that thread would see, steadier
 * than throughput on a noisy machine). Goal (issue 19): on ≥ 90% of off.
 *
 *   npm run bench -- metrics [--seconds 5] [--repeat 3] [--warmup 2] [--concurrency 64] [--loads e2e,get]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { encodeRequest, keepInFlight, methodPath, ownChannel, rawCall } from "../support/grpc-raw.js";
import { markdownTable, medianRange, percentile, saveSideBySide } from "../support/measure.js";
import { serverSource, startBenchServer, type BenchServer } from "../support/server-process.js";

type Load = "e2e" | "get";
type Variant = "off" | "on";
const VARIANTS: readonly Variant[] = ["off", "on"];
const GOAL_RATIO = 0.9;
const SLEEP_PATH = methodPath(Demo.method.sleep);
const WAIT_PATH = methodPath(Operations.method.waitOperation);
const GET_PATH = methodPath(Operations.method.getOperation);
const SCRAPE_INTERVAL_MS = 1000;

export interface MetricsArgs {
  seconds: number;
  repeat: number;
  warmup: number;
  concurrency: number[];
  loads: Load[];
  "no-tracing": boolean;
  profile: string | undefined;
}

interface Target {
  server: BenchServer;
  client: grpc.Client;
  /** A done operation's GetOperation request. */
  getRequest: Buffer;
  scrape: boolean;
}

interface Measurement {
  load: Load;
  concurrency: number;
  variant: Variant;
  round: number;
  perSecond: number;
  errors: number;
  scrapes: number;
  serverCpuMicrosPerUnit: number;
  /** The server's main thread alone: the one thread all RPCs, the runtime and the store calls share. */
  mainThreadCpuMicrosPerUnit: number;
}

export async function run(args: MetricsArgs): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-metrics-"));
  if (args.profile !== undefined) mkdirSync(args.profile, { recursive: true });
  const measurements: Measurement[] = [];
  const off = await startBenchServer({ args: ["--demo", "--no-metrics"], env: { LONGRUN_STORE: `sqlite:${join(dir, "off.db")}` }, instruments: args.profile !== undefined });
  // Traces go to an OTLP/HTTP receiver in a process of its own, answering 200 and counting spans' bytes.
  const receiver = args["no-tracing"] ? undefined : await startOtlpReceiver();
  const tracingEnv: Record<string, string> = receiver
    ? { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${receiver.port}/v1/traces`, OTEL_SERVICE_NAME: "longrun-bench" }
    : {};
  const on = await startBenchServer({ args: ["--demo"], env: { LONGRUN_STORE: `sqlite:${join(dir, "on.db")}`, ...tracingEnv }, instruments: args.profile !== undefined });
  const targets: Record<Variant, Target> = { off: await target(off, false), on: await target(on, true) };
  try {
    for (const load of args.loads) {
      for (const concurrency of args.concurrency) {
        for (const variant of VARIANTS) await measure(targets[variant], load, concurrency, args.warmup);
        for (let round = 1; round <= args.repeat; round++) {
          const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
          for (const variant of order) {
            const profiled = args.profile !== undefined && round === 1;
            if (profiled) await targets[variant].server.startCpuProfile();
            const result = await measure(targets[variant], load, concurrency, args.seconds);
            if (profiled) await targets[variant].server.stopCpuProfile(join(args.profile!, `metrics-${load}-${variant}-c${concurrency}.cpuprofile`));
            measurements.push({ load, concurrency, variant, round, ...result });
            console.log(`${load} c=${concurrency} round ${round} ${variant}: ${result.perSecond.toFixed(0)}/s, ${result.serverCpuMicrosPerUnit.toFixed(0)} µs CPU each (main thread ${result.mainThreadCpuMicrosPerUnit.toFixed(0)})${result.errors ? `, ${result.errors} errors` : ""}`);
          }
        }
      }
    }
  } finally {
    for (const t of Object.values(targets)) t.client.close();
    await off.stop();
    await on.stop();
    const exported = receiver ? await receiver.stop() : undefined;
    if (exported !== undefined) console.log(`OTLP receiver: ${exported.requests} export requests, ${(exported.bytes / 1e6).toFixed(1)} MB`);
    if (receiver && (exported?.requests ?? 0) === 0) throw new Error("tracing was on but no span reached the OTLP receiver");
    rmSync(dir, { recursive: true, force: true });
  }
  report(measurements, args);
}

/** A child process answering OTLP/HTTP export requests with 200; at stop, how many it got. */
async function startOtlpReceiver(): Promise<{ port: number; stop(): Promise<{ requests: number; bytes: number }> }> {
  const code = `
    const http = require("node:http");
    let requests = 0, bytes = 0;
    const server = http.createServer((req, res) => {
      req.on("data", (c) => (bytes += c.length));
      req.on("end", () => { requests++; res.writeHead(200, { "content-type": "application/json" }).end("{}"); });
    });
    server.listen(0, "127.0.0.1", () => process.stdout.write(server.address().port + "\\n"));
    process.on("SIGTERM", () => { process.stdout.write(JSON.stringify({ requests, bytes }) + "\\n"); process.exit(0); });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  let buffered = "";
  const waiters: (() => void)[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
      lines.push(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  const line = async (n: number): Promise<string> => {
    while (lines.length <= n) await new Promise<void>((r) => waiters.push(r));
    return lines[n]!;
  };
  const port = Number(await line(0));
  return {
    port,
    stop: async () => {
      child.kill("SIGTERM");
      return JSON.parse(await line(1)) as { requests: number; bytes: number };
    },
  };
}

async function target(server: BenchServer, scrape: boolean): Promise<Target> {
  const client = ownChannel(server.grpcAddress);
  const name = await oneOperation(client);
  return { server, client, getRequest: encodeRequest(Operations.method.getOperation, { name }), scrape };
}

/** Starts one Demo/Sleep 0 and waits for it to be done; returns its name. */
async function oneOperation(client: grpc.Client): Promise<string> {
  const started = fromBinary(OperationSchema, (await rawCall(client, SLEEP_PATH, encodeRequest(Demo.method.sleep, { duration: durationFromMs(0) }))).bytes);
  const waited = fromBinary(OperationSchema, (await rawCall(client, WAIT_PATH, encodeRequest(Operations.method.waitOperation, { name: started.name, timeout: durationFromMs(30_000) }))).bytes);
  if (!waited.done) throw new Error(`${started.name} is not done after 30 s`);
  return started.name;
}

async function measure(t: Target, load: Load, concurrency: number, seconds: number): Promise<Omit<Measurement, "load" | "concurrency" | "variant" | "round">> {
  let scrapes = 0;
  let scraping = true;
  const scraper = (async () => {
    while (t.scrape && scraping) {
      const response = await fetch(`${t.server.httpUrl}/metrics`);
      if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
      await response.text();
      scrapes++;
      await new Promise((r) => setTimeout(r, SCRAPE_INTERVAL_MS));
    }
  })();
  const cpuBefore = t.server.cpuSeconds();
  const mainBefore = t.server.mainThreadCpuSeconds();
  const began = performance.now();
  let units = 0;
  let errors = 0;
  if (load === "get") {
    const result = await keepInFlight(t.client, GET_PATH, t.getRequest, { concurrency, seconds });
    units = Math.round(result.requestsPerSecond * seconds);
    errors = result.errors;
  } else {
    const end = began + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          try {
            await oneOperation(t.client);
            if (performance.now() <= end) units++;
          } catch {
            errors++;
          }
        }
      }),
    );
  }
  const elapsed = (performance.now() - began) / 1000;
  const cpu = t.server.cpuSeconds() - cpuBefore;
  const main = t.server.mainThreadCpuSeconds() - mainBefore;
  scraping = false;
  await scraper;
  return { perSecond: units / elapsed, errors, scrapes, serverCpuMicrosPerUnit: (1e6 * cpu) / Math.max(1, units), mainThreadCpuMicrosPerUnit: (1e6 * main) / Math.max(1, units) };
}

function report(measurements: readonly Measurement[], args: MetricsArgs): void {
  const date = new Date().toISOString();
  const source = serverSource();
  const rows: string[][] = [];
  const summaries: Record<string, unknown>[] = [];
  for (const key of [...new Set(measurements.map((m) => `${m.load} ${m.concurrency}`))]) {
    const of = (variant: Variant) => measurements.filter((m) => `${m.load} ${m.concurrency}` === key && m.variant === variant);
    const median = (variant: Variant) => percentile(of(variant).map((m) => m.perSecond), 0.5);
    const cpu = (variant: Variant) => percentile(of(variant).map((m) => m.serverCpuMicrosPerUnit), 0.5);
    const mainCpu = (variant: Variant) => percentile(of(variant).map((m) => m.mainThreadCpuMicrosPerUnit), 0.5);
    // Each round's two runs are back to back: their ratio is less moved by the machine's swings than the medians'.
    const pairedMain = percentile(
      of("on").flatMap((on) => of("off").filter((off) => off.round === on.round).map((off) => off.mainThreadCpuMicrosPerUnit / on.mainThreadCpuMicrosPerUnit)),
      0.5,
    );
    const range = (variant: Variant) => medianRange(of(variant).map((m) => m.perSecond), median(variant));
    const [load, concurrency] = key.split(" ");
    const ratio = median("on") / median("off");
    const errors = [...of("off"), ...of("on")].reduce((sum, m) => sum + m.errors, 0);
    summaries.push({ load, concurrency: Number(concurrency), off: median("off"), on: median("on"), ratio, cpuOff: cpu("off"), cpuOn: cpu("on"), mainCpuOff: mainCpu("off"), mainCpuOn: mainCpu("on"), pairedMainRatio: pairedMain, errors });
    rows.push([
      load === "e2e" ? "e2e (start + wait)" : "GetOperation",
      concurrency!,
      range("off"),
      range("on"),
      `${(100 * ratio).toFixed(0)}%`,
      ratio >= GOAL_RATIO ? "met" : "**missed**",
      `${cpu("off").toFixed(0)} / ${cpu("on").toFixed(0)} µs`,
      `${mainCpu("off").toFixed(0)} / ${mainCpu("on").toFixed(0)} µs`,
      `${(100 * pairedMain).toFixed(0)}%`,
      errors ? `**${errors}**` : "0",
    ]);
  }
  const setup =
    "off: `longrun serve --demo --no-metrics`; on: `longrun serve --demo` (metrics on, process metrics included), `/metrics` scraped every second during its runs" +
    (!args["no-tracing"] ? ", and tracing on (every RPC and run sampled, OTLP/HTTP to a receiver process answering 200)" : "") +
    ". SQLite, gRPC.";
  const table = markdownTable(["load", "in flight", "off /s", "on /s", "on / off", "goal ≥ 90%", "server CPU each off / on", "main thread CPU each off / on", "main thread off / on (median of the rounds')", "failed calls"], rows);
  saveSideBySide({ bench: "metrics", title: !args["no-tracing"] ? "Prometheus metrics and OpenTelemetry tracing on and off" : "Prometheus metrics on and off", setup, variants: 2, date, source, args }, measurements, summaries, table);
}
