/**
 * What completion notifications cost, and how fast they arrive (issue 17): two `longrun serve --demo`
 * processes on the same kind of store, one with `--notify http://127.0.0.1:<port>/hook` and one without,
 * loaded the same way and taking turns in every round. A webhook receiver (bench/notify/receiver.ts, a
 * node:http server answering 204) runs in a process of its own and records, per request, when it answered,
 * the envelope's publishTime (the finish's commit time), messageId and operationName.
 *
 * The load: N lanes, each starting Demo/Sleep (duration 0) over gRPC and then WaitOperation until it is done,
 * then the next; an operation counts when WaitOperation returned it done within the run's window (the same
 * for both variants). After each run with notifications on, the bench waits for the outbox to drain
 * (`GET /v1/notifications` empty) before the next run, so the dispatcher's backlog never eats into the other
 * variant's run; how long that takes is reported. Then a light phase starts `--rate` operations a second on
 * the notify server alone. Reported: done/s on and off (medians, min–max), on / off (goal ≥ 0.8), server CPU
 * per operation, delivery latency (receiver's answer − publishTime) p50/p99 under load and light, and
 * correctness: every operation the notify server finished (as ListOperations reads them) delivered exactly
 * once, duplicates counted by event id, once the outbox drained.
 *
 *   npm run bench -- notify [--seconds 5] [--repeat 3] [--warmup 3] [--store sqlite|postgres] [--concurrency 64] [--rate 20] [--light-seconds 5]
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, createRegistry, fromBinary, toBinary, type Registry } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { operationJson } from "../../src/core/any-json.js";
import { Operations, OperationSchema, WaitOperationRequestSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, file_longrun_demo_v1_demo, SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type { Notification } from "../../src/notify/sink.js";
import { WebhookSink } from "../../src/notify/webhook.js";
import { H2GrpcClient } from "../support/grpc-h2.js";
import { methodPath } from "../support/grpc-raw.js";
import { backendCpu, longrunStore, type LongrunStore } from "../support/longrun-store.js";
import { appendJsonLines, machine, markdownTable, median, medianRange, percentile, RESULTS_DIR, sleep, sourceText } from "../support/measure.js";
import { procCpuSeconds, serverSource, startBenchServer, type BenchServer } from "../support/server-process.js";
import type { ReceiverRecord } from "./receiver.js";

/**
 * on: the server with the webhook sink; off: the server without; bare: the off server, with the load
 * generator itself POSTing the same envelope through the same sink code (WebhookSink) to the same receiver
 * for every operation it saw done — telling a receiver on this machine without any outbox, the physical
 * limit of on / off here (the receiver and the POST share the machine's cores with the server).
 */
type Variant = "on" | "off" | "bare";
const VARIANTS: readonly Variant[] = ["on", "off", "bare"];
const GOAL_RATIO = 0.8;
const SLEEP_PATH = methodPath(Demo.method.sleep);
const WAIT_PATH = methodPath(Operations.method.waitOperation);
const RECEIVER = fileURLToPath(new URL("./receiver.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DRAIN_TIMEOUT_MS = 120_000;

export interface NotifyArgs {
  seconds: number;
  repeat: number;
  warmup: number;
  store: "sqlite" | "postgres";
  concurrency: number[];
  rate: number;
  "light-seconds": number;
  profile: string | undefined;
}

interface Target {
  variant: Variant;
  server: BenchServer;
  client: H2GrpcClient;
  storage: LongrunStore;
  /** Every operation this server was given, by name. */
  started: Set<string>;
  /** bare only: the sink the load generator tells the receiver through, itself. */
  bare?: BareTeller;
}

/** The bare variant's teller: the webhook sink's own code, in the load generator, one POST per operation seen done. */
interface BareTeller {
  sink: WebhookSink;
  registry: Registry;
  inFlight: Set<Promise<unknown>>;
  signal: AbortSignal;
}

interface Measurement {
  concurrency: number;
  variant: Variant;
  round: number;
  doneOps: number;
  seconds: number;
  donePerSecond: number;
  errors: number;
  serverCpuMicrosPerOp: number;
  /** PostgreSQL only: the CPU of the server's PostgreSQL backends per operation. */
  postgresCpuMicrosPerOp?: number;
  /** The bench process's own CPU (the load generator) per operation. */
  clientCpuMicrosPerOp: number;
  /** On and bare: the receiver's CPU per operation, from the window's start until the outbox drained (on) or every POST was answered (bare). */
  receiverCpuMicrosPerOp?: number;
  /** On only: how long the outbox took to empty after the run's window closed. */
  drainMs?: number;
}

interface Receiver {
  child: ChildProcess;
  url: string;
  cpuSeconds(): number;
  /** Flushes the records and exits; returns them. */
  stop(): Promise<{ records: ReceiverRecord[]; bad: number }>;
}

export async function run(args: NotifyArgs): Promise<void> {
  // The sources the servers load now, before anything can change them during the run.
  const source = serverSource();
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-notify-"));
  if (args.profile !== undefined) mkdirSync(args.profile, { recursive: true });
  const receiver = await startReceiver(join(dir, "received.jsonl"));
  const storages: LongrunStore[] = [];
  const targets: Target[] = [];
  const measurements: Measurement[] = [];
  /** The notify server's operations per phase, for the latencies. */
  const loadOps = new Map<string, number>();
  const lightOps = new Set<string>();
  let result: Record<string, unknown> | undefined;
  let rows: string[][] = [];
  try {
    for (const variant of ["on", "off"] as const) {
      const storage = await longrunStore({ store: args.store, instances: 1 });
      storages.push(storage);
      const server = await startBenchServer({
        args: variant === "on" ? ["--demo", "--notify", receiver.url] : ["--demo"],
        env: storage.env,
        instruments: args.profile !== undefined,
      });
      targets.push({ variant, server, client: new H2GrpcClient(server.grpcAddress), storage, started: new Set() });
    }
    const on = targets[0]!;
    const off = targets[1]!;
    const bareAbort = new AbortController(); // never aborted: every POST of the bare variant is awaited
    const bareSink = new WebhookSink(receiver.url.replace(/\/hook$/, "/bare"));
    targets.push({ ...off, variant: "bare", started: new Set(), bare: { sink: bareSink, registry: createRegistry(file_longrun_demo_v1_demo), inFlight: new Set(), signal: bareAbort.signal } });
    for (const concurrency of args.concurrency) {
      for (const t of targets) if (t.variant !== "off") await load(t, concurrency, args.warmup);
      await drain(on);
      for (let round = 1; round <= args.repeat; round++) {
        // Each round starts with the other variant, so neither always runs right after the other.
        const order = [...targets.slice(round - 1), ...targets.slice(0, round - 1)];
        for (const t of order) {
          const before = new Set(t.started);
          const receiverCpuBefore = receiver.cpuSeconds();
          const profiled = args.profile !== undefined && round === 1 && t.variant !== "bare";
          if (profiled) {
            await t.server.storeCalls();
            await t.server.startCpuProfile();
          }
          const m = await load(t, concurrency, args.seconds);
          if (profiled) {
            await t.server.stopCpuProfile(join(args.profile!, `notify-${args.store}-${t.variant}-c${concurrency}.cpuprofile`));
            // Store calls per operation done in the window (the in-flight tail adds a little).
            const calls = Object.entries(await t.server.storeCalls()).filter(([k]) => !k.includes("."));
            console.log(`  ${t.variant} store calls per op: ${calls.map(([k, v]) => `${k} ${(v / Math.max(1, m.doneOps)).toFixed(2)}`).join(", ")}`);
          }
          const measurement: Measurement = { concurrency, variant: t.variant, round, ...m };
          if (t.variant === "on") {
            for (const name of t.started) if (!before.has(name)) loadOps.set(name, concurrency);
            measurement.drainMs = await drain(t);
          }
          if (t.variant !== "off") {
            measurement.receiverCpuMicrosPerOp = (1e6 * (receiver.cpuSeconds() - receiverCpuBefore)) / Math.max(1, m.doneOps);
          }
          measurements.push(measurement);
          console.log(
            `c=${concurrency} round ${round} ${t.variant}: ${m.donePerSecond.toFixed(0)} done/s, ${m.serverCpuMicrosPerOp.toFixed(0)} µs server CPU/op` +
              `${measurement.drainMs === undefined ? "" : `, outbox empty ${measurement.drainMs.toFixed(0)} ms after the window`}${m.errors ? `, ${m.errors} errors` : ""}`,
          );
        }
      }
    }
    console.log(`light load: ${args.rate} operations/s for ${args["light-seconds"]} s on the notify server`);
    const lightErrors = await lightLoad(on, args.rate, args["light-seconds"], lightOps);
    const finalDrainMs = await drain(on);
    const leftInOutbox = await outboxSize(on);
    const finished = await doneOperations(on.server);
    const { records, bad } = await receiver.stop();
    const receiverCpu = receiver.cpuSeconds();
    const check = correctness(on.started, finished, records);
    const latency = (ops: (op: string) => boolean) => {
      const firsts = firstDeliveries(records).filter((r) => ops(r.op)).map((r) => r.t - r.p);
      return { n: firsts.length, p50: percentile(firsts, 0.5), p99: percentile(firsts, 0.99), max: Math.max(...firsts) };
    };
    const loadLatency = args.concurrency.map((c) => ({ concurrency: c, ...latency((op) => loadOps.get(op) === c) }));
    const lightLatency = latency((op) => lightOps.has(op));
    result = { finalDrainMs, leftInOutbox, badRequests: bad, lightErrors, receiverCpuMicrosPerEvent: (1e6 * receiverCpu) / Math.max(1, records.length), ...check, loadLatency, lightLatency };
    rows = report(measurements, args, source, result, loadLatency, lightLatency, check);
  } finally {
    for (const t of targets) {
      if (t.bare) {
        await t.bare.sink.close();
        continue; // the off server's
      }
      t.client.close();
      await t.server.stop();
    }
    if (receiver.child.exitCode === null) receiver.child.kill("SIGTERM");
    for (const s of storages) await s.remove();
    rmSync(dir, { recursive: true, force: true });
  }
  void rows;
}

/** `concurrency` lanes on `t` for `seconds`: start, wait until done, again; counts what finished in the window. */
async function load(t: Target, concurrency: number, seconds: number): Promise<Omit<Measurement, "concurrency" | "variant" | "round">> {
  const sleepRequest = toBinary(SleepRequestSchema, create(SleepRequestSchema, { duration: durationFromMs(0) }));
  const cpuBefore = t.server.cpuSeconds();
  const pgBefore = await backendCpu(t.storage);
  const clientCpuBefore = process.cpuUsage();
  const began = performance.now();
  const end = began + seconds * 1000;
  let doneOps = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          const done = await oneOperation(t, sleepRequest);
          if (t.bare) tellBare(t.bare, done);
          if (performance.now() <= end) doneOps++;
        } catch {
          errors++;
        }
      }
    }),
  );
  // The bare variant's run ends when the receiver has answered every POST of it, as on's ends when its outbox drained.
  if (t.bare) await Promise.all(t.bare.inFlight);
  const cpu = t.server.cpuSeconds() - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const perOp = (micros: number): number => micros / Math.max(1, doneOps);
  const pgAfter = await backendCpu(t.storage);
  let pgCpu = 0;
  // A backend that started during the run counts whole; one that ended during it is lost (the pool keeps them).
  for (const [pid, seconds] of pgAfter ?? []) pgCpu += seconds - (pgBefore?.get(pid) ?? 0);
  return {
    ...(pgAfter ? { postgresCpuMicrosPerOp: perOp(1e6 * pgCpu) } : {}), doneOps, seconds, donePerSecond: doneOps / seconds, errors, serverCpuMicrosPerOp: perOp(1e6 * cpu), clientCpuMicrosPerOp: perOp(clientCpu.user + clientCpu.system) };
}


/** What the server's dispatcher would send for `done`, sent by the load generator through the same sink code; not awaited. */
function tellBare(bare: BareTeller, done: Operation): void {
  const id = done.name.slice(done.name.lastIndexOf("/") + 1);
  const attributes = { eventType: "OPERATION_SUCCEEDED", eventId: `bare-${id}`, operationName: done.name, method: "longrun.demo.v1.Demo.Sleep", payloadFormat: "JSON" };
  const data = Buffer.from(JSON.stringify(operationJson(done, bare.registry)));
  const notification: Notification = { eventId: attributes.eventId, attributes, data, publishTime: new Date(), attempt: 1 };
  const post: Promise<unknown> = bare.sink.deliver([notification], bare.signal).then((outcomes) => {
    if (outcomes[0]?.kind !== "delivered") throw new Error(`bare POST: ${JSON.stringify(outcomes[0])}`);
  }).finally(() => bare.inFlight.delete(post));
  bare.inFlight.add(post);
}

/** Starts one Demo/Sleep 0 and waits for it to be done; returns it done. */
async function oneOperation(t: Target, sleepRequest: Uint8Array): Promise<Operation> {
  const op = fromBinary(OperationSchema, await t.client.call(SLEEP_PATH, sleepRequest));
  t.started.add(op.name);
  const waitRequest = toBinary(WaitOperationRequestSchema, create(WaitOperationRequestSchema, { name: op.name, timeout: durationFromMs(30_000) }));
  const done = fromBinary(OperationSchema, await t.client.call(WAIT_PATH, waitRequest));
  if (!done.done) throw new Error(`${op.name} not done after 30 s`);
  return done;
}

/** `rate` operations a second for `seconds`, each started on its own schedule (open loop). */
async function lightLoad(t: Target, rate: number, seconds: number, names: Set<string>): Promise<number> {
  const sleepRequest = toBinary(SleepRequestSchema, create(SleepRequestSchema, { duration: durationFromMs(0) }));
  const count = Math.round(rate * seconds);
  const began = performance.now();
  const pending: Promise<void>[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const at = began + (1000 * i) / rate;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(oneOperation(t, sleepRequest).then((done) => void names.add(done.name), () => void errors++));
  }
  await Promise.all(pending);
  return errors;
}

/** Polls `GET /v1/notifications` until the outbox is empty; returns how long that took, ms. */
async function drain(t: Target): Promise<number> {
  const began = performance.now();
  while ((await outboxSize(t)) > 0) {
    if (performance.now() - began > DRAIN_TIMEOUT_MS) throw new Error(`the outbox is not empty after ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(20);
  }
  return performance.now() - began;
}

async function outboxSize(t: Target): Promise<number> {
  const response = await fetch(`${t.server.httpUrl}/v1/notifications?pageSize=1`);
  if (!response.ok) throw new Error(`GET /v1/notifications: HTTP ${response.status}`);
  const body = (await response.json()) as { notifications?: unknown[] };
  return body.notifications?.length ?? 0;
}

/** The names of the server's done operations, as its store lists them (ListOperations over REST). */
async function doneOperations(server: BenchServer): Promise<Set<string>> {
  const names = new Set<string>();
  let token = "";
  do {
    const response = await fetch(`${server.httpUrl}/v1/operations?pageSize=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
    if (!response.ok) throw new Error(`GET /v1/operations: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { operations?: { name: string; done?: boolean }[]; nextPageToken?: string };
    for (const op of body.operations ?? []) if (op.done) names.add(op.name);
    token = body.nextPageToken ?? "";
  } while (token !== "");
  return names;
}

/** Each event's first delivery (a duplicate's latency would say nothing of the path). */
function firstDeliveries(records: readonly ReceiverRecord[]): ReceiverRecord[] {
  const first = new Map<string, ReceiverRecord>();
  for (const r of records) {
    const seen = first.get(r.id);
    if (!seen || r.t < seen.t) first.set(r.id, r);
  }
  return [...first.values()];
}

interface Correctness {
  /** Operations the bench started on the notify server, and how many of them its store lists as done. */
  started: number;
  finished: number;
  /** Requests the receiver answered, and distinct event ids among them. */
  received: number;
  events: number;
  /** Requests beyond the first of an event id. */
  duplicates: number;
  /** Finished operations with no event delivered. */
  lost: number;
  /** Finished operations with more than one distinct event. */
  extraEvents: number;
  /** Events for operations the store does not list as finished. */
  strays: number;
  exactlyOnce: boolean;
}

function correctness(started: ReadonlySet<string>, finished: ReadonlySet<string>, records: readonly ReceiverRecord[]): Correctness {
  const eventsByOp = new Map<string, Set<string>>();
  const ids = new Set<string>();
  for (const r of records) {
    ids.add(r.id);
    const set = eventsByOp.get(r.op) ?? new Set<string>();
    set.add(r.id);
    eventsByOp.set(r.op, set);
  }
  let lost = 0;
  let extraEvents = 0;
  for (const name of finished) {
    const n = eventsByOp.get(name)?.size ?? 0;
    if (n === 0) lost++;
    else if (n > 1) extraEvents++;
  }
  const strays = [...eventsByOp.keys()].filter((op) => !finished.has(op)).length;
  const notFinished = [...started].filter((name) => !finished.has(name)).length;
  const duplicates = records.length - ids.size;
  return {
    started: started.size,
    finished: finished.size,
    received: records.length,
    events: ids.size,
    duplicates,
    lost,
    extraEvents,
    strays,
    exactlyOnce: lost === 0 && extraEvents === 0 && strays === 0 && duplicates === 0 && notFinished === 0 && finished.size === started.size,
  };
}

async function startReceiver(path: string): Promise<Receiver> {
  const child = fork(RECEIVER, [path], { cwd: ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m: { kind: string; port: number }) => (m.kind === "listening" ? resolve(m.port) : reject(new Error(`receiver: ${m.kind}`))));
    child.once("exit", (code) => reject(new Error(`the receiver exited (${code})`)));
  });
  const pid = child.pid as number;
  let lastCpu = 0;
  const readCpu = (): number => {
    if (child.exitCode === null) lastCpu = procCpuSeconds(pid);
    return lastCpu;
  };
  // Its start-up (tsx compiling) is not the requests' cost.
  const startCpu = readCpu();
  const cpuSeconds = (): number => readCpu() - startCpu;
  return {
    child,
    url: `http://127.0.0.1:${port}/hook`,
    cpuSeconds,
    stop: async () => {
      cpuSeconds();
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      const stopped = new Promise<number>((resolve) => child.once("message", (m: { kind: string; bad: number }) => resolve(m.bad)));
      child.send({ kind: "stop" });
      const bad = await stopped;
      await exited;
      const text = readFileSync(path, "utf8");
      // The bare variant's requests were the load generator's, not a server's: not events to check.
      const records = text === "" ? [] : text.trimEnd().split("\n").map((line) => JSON.parse(line) as ReceiverRecord).filter((r) => r.bare !== true);
      return { records, bad };
    },
  };
}

function report(
  measurements: readonly Measurement[],
  args: NotifyArgs,
  source: ReturnType<typeof serverSource>,
  result: Record<string, unknown>,
  loadLatency: readonly { concurrency: number; n: number; p50: number; p99: number; max: number }[],
  lightLatency: { n: number; p50: number; p99: number; max: number },
  check: Correctness,
): string[][] {
  const date = new Date().toISOString();
  const host = machine();
  const rows: string[][] = [];
  const summaries: Record<string, unknown>[] = [];
  for (const concurrency of args.concurrency) {
    const of = (variant: Variant) => measurements.filter((m) => m.concurrency === concurrency && m.variant === variant);
    const med = (variant: Variant) => median(of(variant).map((m) => m.donePerSecond));
    const range = (variant: Variant) => medianRange(of(variant).map((m) => m.donePerSecond), med(variant));
    const cpu = (variant: Variant) => median(of(variant).map((m) => m.serverCpuMicrosPerOp));
    const clientCpu = (variant: Variant) => median(of(variant).map((m) => m.clientCpuMicrosPerOp));
    const receiverCpu = median(of("on").map((m) => m.receiverCpuMicrosPerOp ?? 0));
    const ratio = med("on") / med("off");
    // The bare variant: what telling the receiver costs with no outbox; bare / off bounds on / off on this machine.
    const bareRatio = med("bare") / med("off");
    const onToBare = med("on") / med("bare");
    const bareReceiverCpu = median(of("bare").map((m) => m.receiverCpuMicrosPerOp ?? 0));
    // Each round's on / off: the two ran back to back, so a noisy neighbour moves both.
    const paired = of("on").map((m) => m.donePerSecond / of("off").find((o) => o.round === m.round)!.donePerSecond);
    // What the ratio would be were the machine's CPU all there is to it: all three processes' CPU per operation.
    const pgCpu = (variant: Variant) => median(of(variant).map((m) => m.postgresCpuMicrosPerOp ?? 0));
    const cpuTotalOn = cpu("on") + pgCpu("on") + receiverCpu + clientCpu("on");
    const cpuTotalOff = cpu("off") + pgCpu("off") + clientCpu("off");
    const withPg = args.store === "postgres";
    const drains = of("on").map((m) => m.drainMs ?? 0);
    const lat = loadLatency.find((l) => l.concurrency === concurrency)!;
    const errors = [...of("on"), ...of("off"), ...of("bare")].reduce((sum, m) => sum + m.errors, 0);
    summaries.push({
      concurrency, on: med("on"), off: med("off"), bare: med("bare"), ratio, bareRatio, onToBare, bareServerCpu: cpu("bare"), bareReceiverCpu, bareClientCpu: clientCpu("bare"), pairedRatios: paired, pairedMedian: median(paired),
      cpuOn: cpu("on"), cpuOff: cpu("off"), postgresCpuOn: pgCpu("on"), postgresCpuOff: pgCpu("off"), receiverCpu, clientCpuOn: clientCpu("on"), clientCpuOff: clientCpu("off"), cpuRatio: cpuTotalOff / cpuTotalOn, drainMsMax: Math.max(...drains), latency: lat, errors });
    rows.push([
      String(concurrency),
      range("on"),
      range("off"),
      range("bare"),
      ratio.toFixed(2),
      `${median(paired).toFixed(2)} (${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)})`,
      ratio >= GOAL_RATIO ? "met" : "**missed**",
      bareRatio.toFixed(2),
      onToBare.toFixed(2),
      `${cpu("on").toFixed(0)}${withPg ? ` + ${pgCpu("on").toFixed(0)}` : ""} + ${receiverCpu.toFixed(0)} + ${clientCpu("on").toFixed(0)} / ${cpu("off").toFixed(0)}${withPg ? ` + ${pgCpu("off").toFixed(0)}` : ""} + ${clientCpu("off").toFixed(0)} µs (${(cpuTotalOff / cpuTotalOn).toFixed(2)})`,
      `${cpu("bare").toFixed(0)}${withPg ? ` + ${pgCpu("bare").toFixed(0)}` : ""} + ${bareReceiverCpu.toFixed(0)} + ${clientCpu("bare").toFixed(0)} µs`,
      `${ms(lat.p50)} / ${ms(lat.p99)} (max ${ms(lat.max)}; ${fmt(lat.n)} events)`,
      `≤ ${ms(Math.max(...drains))}`,
      errors ? `**${errors}**` : "0",
    ]);
  }
  appendJsonLines("notify.jsonl", [
    ...measurements.map((m) => ({ bench: "notify", kind: "round", date, store: args.store, ...m })),
    { bench: "notify", kind: "summary", date, machine: host, source, store: args.store, seconds: args.seconds, repeat: args.repeat, warmup: args.warmup, rate: args.rate, lightSeconds: args["light-seconds"], rows: summaries, ...result },
  ]);
  const verdict = check.exactlyOnce
    ? `every one of the ${fmt(check.finished)} operations the notify server finished (warm-up and light phase included, as ListOperations lists them) was delivered exactly once: ${fmt(check.received)} requests, ${fmt(check.events)} event ids, 0 duplicates, 0 lost`
    : `**not exactly once**: ${fmt(check.started)} started, ${fmt(check.finished)} finished, ${fmt(check.received)} requests, ${fmt(check.events)} event ids, ${check.duplicates} duplicates, ${check.lost} lost, ${check.extraEvents} operations with several events, ${check.strays} events of unknown operations`;
  const markdown = [
    `## notify — completion notifications, ${args.store}`,
    "",
    `${date}; ${host.cpus} CPUs (${host.cpuModel}), Node ${host.node}; sources ${sourceText(source)}; store ${args.store}. ` +
      `Each row: ${args.repeat} runs of ${args.seconds} s per variant after ${args.warmup} s of warm-up, taking turns; an operation is Demo/Sleep 0 over gRPC then WaitOperation until done, N lanes. ` +
      "on: `longrun serve --demo --notify http://127.0.0.1:<port>/hook` (a node:http receiver answering 204, in its own process); off: `longrun serve --demo`; " +
      "bare: the off server, the load generator POSTing each operation it saw done to the same receiver through the same sink code (no outbox: the limit of on / off on this machine). " +
      "Latency: the receiver's answer − the envelope's publishTime (the finish's commit time), first delivery of each event; the outbox is drained after every run with notifications on.",
    "",
    markdownTable(["in flight", "on done/s", "off done/s", "bare done/s", "on / off (medians)", "on / off per round", "goal ≥ 0.8", "bare / off (the limit here)", "on / bare", `CPU per op: on server${args.store === "postgres" ? " + PostgreSQL" : ""} + receiver + bench / off server${args.store === "postgres" ? " + PostgreSQL" : ""} + bench (off / on)`, `bare: server${args.store === "postgres" ? " + PostgreSQL" : ""} + receiver + bench`, "delivery p50 / p99 under load", "outbox empty after window", "failed calls"], rows),
    `Light load (${args.rate} operations/s for ${args["light-seconds"]} s, notify server alone): delivery p50 ${ms(lightLatency.p50)}, p99 ${ms(lightLatency.p99)}, max ${ms(lightLatency.max)} (${lightLatency.n} events).`,
    "",
    `Correctness, after the outbox drained (${String(result["leftInOutbox"])} left in it): ${verdict}. Receiver CPU: ${Number(result["receiverCpuMicrosPerEvent"]).toFixed(0)} µs per request.`,
    "",
  ].join("\n");
  writeFileSync(join(RESULTS_DIR, "notify.md"), markdown);
  console.log("\n" + markdown);
  return rows;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en");
}

function ms(n: number): string {
  return `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;
}
