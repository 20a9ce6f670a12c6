/**
 * WaitOperation at scale: `n` clients each blocked in one WaitOperation (gRPC, long timeout) on a pending
 * operation held by a real `longrun serve` process, then all the operations complete at one moment.
 * Measured per operation: the delay from its completion as the server recorded it (the stored end_time:
 * when the finish write began; this machine's clock) to the client holding the answer; the server's
 * resident memory while the `n` waits are pending and at its peak; the Store calls the server made before
 * and after the completion (bench/support/serve-instrumented.ts counts them in the server process).
 *
 * Then the same with google-gax's default LRO polling instead of Wait (`--modes poll`): after the start,
 * GetOperation at once, then after 100 ms, ×1.3 each time, at most 60 s apart — gax's
 * createDefaultBackoffSettings(), read from google-gax itself, as its Operation.startPolling_ applies them
 * (the next delay starts when the previous answer arrived). Measured: the delay from completion to the
 * first answer saying done, and the requests it took.
 *
 * How the operations complete (`--complete`):
 * - `sleep` (default): Demo/Sleep handlers, all running at once (`--concurrency n`), each started with the
 *   duration that makes it end at the chosen moment. The completion then takes the path every operation
 *   takes (the handler returns, the result goes out in a batched finish write, the change feed wakes the
 *   waiters) and nothing else reaches the server meanwhile. The cost: while the waits are pending, the
 *   n handlers report progress about once a second each (batched writes) and their memory counts in the RSS.
 * - `cancel`: the server runs no handlers (`--no-worker`), every operation stays queued, and at the chosen
 *   moment the benchmark cancels them all, `--cancel-inflight` calls at a time. The RSS is then the waits' alone; but each CancelOperation is a
 *   store write of its own (not batched), so the completion also measures n cancel writes — on SQLite each
 *   a synchronous commit on the server's event loop — competing with the answers.
 * Sleep is the default because it measures WaitOperation, not CancelOperation; cancel tells the memory.
 *
 *   npm run bench -- wait [--n 10000] [--store sqlite|postgres|sqlite,postgres] [--modes wait,poll]
 *                         [--complete sleep|cancel] [--cancel-inflight 64] [--at 90] [--channels 10] [--profile]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack, durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { createDefaultBackoffSettings } from "google-gax";
import { Operations, OperationSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { openStore } from "../../src/store/open.js";
import type { ListCursor } from "../../src/store/store.js";
import { freshSchema, type TestSchema } from "../../test/support/postgres.js";
import { heapProfileMarkdown, profileMarkdown, summarizeHeapProfile, summarizeProfile } from "../support/profile-summary.js";
import { encodeRequest, methodPath, ownChannel, rawCall, type RawReply } from "../support/grpc-raw.js";
import { appendJsonLines, machine, markdownTable, percentile, RESULTS_DIR, sleep } from "../support/measure.js";
import { megabytes, serverSource, startBenchServer, type StoreCalls } from "../support/server-process.js";
import { sleepMethodArgs } from "../support/noop-methods.js";

type Store = "sqlite" | "postgres";
type Mode = "wait" | "poll";
type Completion = "cancel" | "sleep";

const GAX_LRO_BACKOFF = createDefaultBackoffSettings();
const GOAL_P99_MS = 50;
const GOAL_RSS_MB = 300;
/** How long a Wait may block: far beyond the run, so every Wait ends because its operation is done. */
const WAIT_TIMEOUT_MS = 300_000;
/** Starts in flight at once while creating the operations (as e2e's load). */
const START_INFLIGHT = 64;
/** A Demo/Sleep that never ends by itself within a run (in cancel mode no handler runs anyway). */
const HOUR_MS = 3_600_000;

const PATHS = {
  sleep: methodPath(Demo.method.sleep),
  wait: methodPath(Operations.method.waitOperation),
  get: methodPath(Operations.method.getOperation),
  cancel: methodPath(Operations.method.cancelOperation),
};

/** What `npm run bench -- wait` was asked (bench/wait/index.ts declares the flags). */
export interface WaitArgs {
  n: number;
  store: Store[];
  modes: Mode[];
  complete: Completion;
  at: number;
  spread: number;
  channels: number;
  "cancel-inflight": number;
  handler: "quiet" | "demo";
  profile: boolean;
}

export async function run(args: WaitArgs): Promise<void> {
  const settings: Settings = {
    n: args.n,
    completion: args.complete,
    atMs: args.at * 1000,
    channels: args.channels,
    cancelInflight: args["cancel-inflight"],
    spreadMs: args.spread * 1000,
    handler: args.handler,
    profile: args.profile,
  };
  const stores = args.store;
  const modes = args.modes;

  const results: RunResult[] = [];
  for (const store of stores) {
    for (const mode of modes) {
      console.log(`\n${store}, ${mode === "wait" ? "WaitOperation" : "gax polling"}: ${settings.n} operations, complete by ${settings.completion} at +${settings.atMs / 1000} s`);
      const result = await runOnce(store, mode, settings);
      results.push(result);
      appendJsonLines("wait.jsonl", [{ bench: "wait", date: new Date().toISOString(), machine: machine(), source: serverSource(), ...settings, ...result }]);
      console.log(JSON.stringify(result, null, 1));
    }
  }
  report(results, settings);
}

interface Settings {
  n: number;
  completion: Completion;
  /** When the operations complete, from the first start. */
  atMs: number;
  channels: number;
  /** With --complete cancel: CancelOperation calls in flight at once. */
  cancelInflight: number;
  /**
   * With --complete sleep: the i-th operation started ends at `atMs + spreadMs × i / n`, so completions
   * arrive at a steady n / spread per second; 0 ends them all at one moment (a burst, bounded by how fast
   * the server can answer n waiters at once).
   */
  spreadMs: number;
  /** With --complete sleep: `quiet` (bench/support/noop-methods.ts, one timer, no progress) or the demo's Sleep. */
  handler: "quiet" | "demo";
  profile: boolean;
}

interface RunResult {
  store: Store;
  mode: Mode;
  /** Seconds to start the n operations (and their followers). */
  startSeconds: number;
  /** From the first operation's end_time to the last's. */
  completionSpreadMs: number;
  completionWindow: CompletionWindow;
  /** From the moment the benchmark completes the operations (sends the cancels, or the handlers' end). */
  timeline: { firstEndTimeMs: number; lastEndTimeMs: number; lastCancelAnsweredMs: number; firstAnswerMs: number; lastAnswerMs: number };
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /**
   * The same delay from SleepMetadata.end_time, which the runtime sets before the finish write is even
   * queued: for a cancel, when the CancelOperation call began (so it includes the cancel's own write).
   */
  fromMetadataEndTime: { p50Ms: number; p99Ms: number };
  /**
   * gax's schedule on these operations (their start and end times) with a server answering at once: the
   * delay the schedule itself costs, apart from what the polling load did to the server.
   */
  idealGaxPolling: { p50Ms: number; p99Ms: number; requests: number };
  /** Wait or Get calls made, in all. */
  requests: number;
  /** Operations already done when their follower's first answer came (none, when the timing is right). */
  doneAtFirstAnswer: number;
  rssIdleMB: number;
  rssAllPendingMB: number;
  rssPeakMB: number;
  /** Operations read from the store (get, getViews) per operation, while pending (up to the completion) and from it on. */
  readsPerOpBefore: number;
  readsPerOpAfter: number;
  /** Read statements (get and getViews calls) from the completion on. */
  readStatementsAfter: number;
  /** process.memoryUsage() in the server, MB, after a full garbage collection: what is alive. */
  memoryIdleMB: MemoryMB;
  memoryAllPendingMB: MemoryMB;
  storeCallsBefore: StoreCalls;
  storeCallsAfter: StoreCalls;
  serverCpuSeconds: number;
  /** With --profile: the server's CPU profile from the completion to the last answer… */
  profile: string | undefined;
  /** …and its sampling heap profile of what the run allocated and still held with every wait pending. */
  heapProfile: string | undefined;
}

/**
 * From the completion to the last answer: how long, and the CPU time the server and this client (the
 * benchmark process) spent in it — a server near 1 s per second was the bottleneck, and a busy client
 * would add its own delay to the answers it had yet to read.
 */
interface CompletionWindow {
  seconds: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

interface Followed {
  name: string;
  /** Date.now() when the start's answer arrived: where gax's polling schedule begins. */
  startedAt: number;
  /** The answer that said done: its bytes are decoded once every follower is done. */
  reply: RawReply;
  requests: number;
  answersBeforeDone: number;
}

/** What the run saw, before it is turned into delays with the end times the store recorded. */
interface Observed {
  startSeconds: number;
  completionBegan: number;
  lastCancelAnswered: number;
  completionWindow: CompletionWindow;
  followed: Followed[];
  rssIdle: number;
  rssAllPending: number;
  rssPeak: number;
  memoryIdle: NodeJS.MemoryUsage;
  memoryAllPending: NodeJS.MemoryUsage;
  callsPending: StoreCalls;
  callsDone: StoreCalls;
  serverCpuSeconds: number;
  profile: string | undefined;
  heapProfile: string | undefined;
}

async function runOnce(store: Store, mode: Mode, settings: Settings): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-wait-"));
  let db: TestSchema | undefined;
  try {
    let env: Record<string, string>;
    if (store === "postgres") {
      db = await freshSchema("lr_wait");
      env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema };
    } else {
      env = { LONGRUN_STORE: `sqlite:${join(dir, "longrun.db")}` };
    }
    const observed = await observe(store, mode, settings, env);
    // Read after the server stopped: the embedded store admits one process at a time.
    const storedEndTimes = await readEndTimes(env);
    return summarize(store, mode, settings.n, observed, storedEndTimes);
  } finally {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function observe(store: Store, mode: Mode, settings: Settings, env: Record<string, string>): Promise<Observed> {
  const { n } = settings;
  const serverArgs = [...sleepMethodArgs(settings.handler === "quiet"), "--max-wait", `${(WAIT_TIMEOUT_MS * 2) / 1000}s`];
  serverArgs.push(...(settings.completion === "cancel" ? ["--no-worker"] : ["--concurrency", String(n + START_INFLIGHT)]));
  const server = await startBenchServer({ args: serverArgs, env });
  const control = ownChannel(server.grpcAddress);
  const channels = Array.from({ length: settings.channels }, () => ownChannel(server.grpcAddress));
  try {
    await warmUp(control, channels, settings.completion);
    const rssIdle = server.rssBytes();
    const memoryIdle = await server.memoryUsage({ collectGarbage: true });
    const profileDir = join(RESULTS_DIR, "profiles");
    const profileName = `wait-${store}-${mode}-${settings.completion}-${n}`;
    const heapProfile = settings.profile ? join(profileDir, `${profileName}.heapprofile`) : undefined;
    if (heapProfile) {
      mkdirSync(profileDir, { recursive: true });
      await server.startHeapProfile();
    }
    await server.storeCalls(); // from here on: the run's own calls
    const cpuBefore = server.cpuSeconds();

    // Start n operations, 64 at a time; each client follows its operation as soon as it has it.
    const began = Date.now();
    const completeAt = began + settings.atMs;
    const names: string[] = [];
    const followers: Promise<Followed>[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: START_INFLIGHT }, async () => {
        for (let i = next++; i < n; i = next++) {
          const duration = settings.completion === "sleep" ? Math.round(completeAt + (settings.spreadMs * i) / n) - Date.now() : HOUR_MS;
          const started = await rawCall(control, PATHS.sleep, encodeRequest(Demo.method.sleep, { duration: durationFromMs(Math.max(0, duration)) }));
          const name = fromBinary(OperationSchema, started.bytes).name;
          names.push(name);
          const channel = channels[i % channels.length] as grpc.Client;
          const follower = mode === "wait" ? waitFor(channel, name, started.receivedAt) : pollLikeGax(channel, name, started.receivedAt);
          // Awaited all together later; until then a failure must not crash the run as unhandled (and hide
          // the failure that caused it, such as the server going away).
          follower.catch(() => undefined);
          followers.push(follower);
        }
      }),
    );
    const startSeconds = (Date.now() - began) / 1000;
    console.log(`  started ${n} in ${startSeconds.toFixed(1)} s; completing at +${settings.atMs / 1000} s`);
    if (Date.now() > completeAt - 2000) throw new Error(`starting took ${startSeconds.toFixed(1)} s: give the waits time to be pending, raise --at`);

    await sleep(completeAt - 500 - Date.now());
    const rssAllPending = server.rssBytes();
    // After the RSS sample: a full collection shrinks the heap, and what remains is what the followers hold.
    const memoryAllPending = await server.memoryUsage({ collectGarbage: true });
    if (heapProfile) await server.stopHeapProfile(heapProfile);
    await sleep(completeAt - Date.now());
    const callsPending = await server.storeCalls();
    const profile = settings.profile ? join(profileDir, `${profileName}.cpuprofile`) : undefined;
    if (profile) await server.startCpuProfile();
    const completionBegan = Date.now();
    const serverCpuAtCompletion = server.cpuSeconds();
    const clientCpuAtCompletion = process.cpuUsage();
    let lastCancelAnswered = completionBegan;
    if (settings.completion === "cancel") {
      lastCancelAnswered = await cancelAll(control, names, settings.cancelInflight);
    }
    const followed = await Promise.all(followers);
    const clientCpu = process.cpuUsage(clientCpuAtCompletion);
    const completionWindow: CompletionWindow = {
      seconds: (Date.now() - completionBegan) / 1000,
      serverCpuSeconds: server.cpuSeconds() - serverCpuAtCompletion,
      clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    };
    if (profile) await server.stopCpuProfile(profile);
    return {
      startSeconds,
      completionBegan,
      lastCancelAnswered,
      completionWindow,
      followed,
      rssIdle,
      rssAllPending,
      rssPeak: server.peakRssBytes(),
      memoryIdle,
      memoryAllPending,
      callsPending,
      callsDone: await server.storeCalls(),
      serverCpuSeconds: server.cpuSeconds() - cpuBefore,
      profile,
      heapProfile,
    };
  } catch (error) {
    console.error(`the run failed; the server's last output:\n${server.output().slice(-4000)}`);
    throw error;
  } finally {
    control.close();
    for (const c of channels) c.close();
    await server.stop();
  }
}

/** end_time as the store recorded it (the finish write's time), by operation id, through the Store API. */
async function readEndTimes(env: Record<string, string>): Promise<Map<string, number>> {
  const store = await openStore(env.LONGRUN_STORE as string, { schema: env.LONGRUN_SCHEMA, migrate: false });
  try {
    const endTimes = new Map<string, number>();
    const now = Date.now();
    for (let after: ListCursor | undefined; ; ) {
      const page = await store.list({ parent: "", after, limit: 1000, now });
      for (const record of page) if (record.endTime !== undefined) endTimes.set(record.id, record.endTime);
      const last = page[page.length - 1];
      if (!last) return endTimes;
      after = { createTime: last.createTime, id: last.id };
    }
  } finally {
    await store.close();
  }
}

function summarize(store: Store, mode: Mode, n: number, o: Observed, storedEndTimes: Map<string, number>): RunResult {
  const delays: number[] = [];
  const delaysFromMetadata: number[] = [];
  const ideal = o.followed.map((f) => {
    const endTime = storedEndTimes.get(f.name.slice(f.name.lastIndexOf("/") + 1));
    return endTime === undefined ? { delayMs: Number.NaN, requests: 0 } : idealGaxPoll(f.startedAt, endTime);
  });
  const endTimes: number[] = [];
  let doneAtFirstAnswer = 0;
  for (const f of o.followed) {
    const id = f.name.slice(f.name.lastIndexOf("/") + 1);
    const endTime = storedEndTimes.get(id);
    if (endTime === undefined) throw new Error(`${f.name}: no end_time in the store`);
    endTimes.push(endTime);
    delays.push(f.reply.receivedAt - endTime);
    delaysFromMetadata.push(f.reply.receivedAt - metadataEndTime(fromBinary(OperationSchema, f.reply.bytes)));
    if (f.answersBeforeDone === 0 && mode === "poll") doneAtFirstAnswer++;
  }
  // Records read, whether one by one (get) or together (getViews, what Get and Wait read).
  const reads = (calls: StoreCalls): number => (calls["get"] ?? 0) + (calls["getViews.items"] ?? 0);
  const readStatements = (calls: StoreCalls): number => (calls["get"] ?? 0) + (calls["getViews"] ?? 0);
  const since = (t: number): number => t - o.completionBegan;
  return {
    store,
    mode,
    startSeconds: o.startSeconds,
    completionSpreadMs: Math.max(...endTimes) - Math.min(...endTimes),
    completionWindow: o.completionWindow,
    timeline: {
      firstEndTimeMs: since(Math.min(...endTimes)),
      lastEndTimeMs: since(Math.max(...endTimes)),
      lastCancelAnsweredMs: since(o.lastCancelAnswered),
      firstAnswerMs: since(Math.min(...o.followed.map((f) => f.reply.receivedAt))),
      lastAnswerMs: since(Math.max(...o.followed.map((f) => f.reply.receivedAt))),
    },
    delayP50Ms: percentile(delays, 0.5),
    delayP99Ms: percentile(delays, 0.99),
    delayMaxMs: Math.max(...delays),
    fromMetadataEndTime: { p50Ms: percentile(delaysFromMetadata, 0.5), p99Ms: percentile(delaysFromMetadata, 0.99) },
    idealGaxPolling: {
      p50Ms: percentile(ideal.map((i) => i.delayMs), 0.5),
      p99Ms: percentile(ideal.map((i) => i.delayMs), 0.99),
      requests: ideal.reduce((sum, i) => sum + i.requests, 0),
    },
    requests: o.followed.reduce((sum, f) => sum + f.requests, 0),
    doneAtFirstAnswer,
    rssIdleMB: megabytes(o.rssIdle),
    rssAllPendingMB: megabytes(o.rssAllPending),
    rssPeakMB: megabytes(o.rssPeak),
    readsPerOpBefore: reads(o.callsPending) / n,
    readsPerOpAfter: reads(o.callsDone) / n,
    readStatementsAfter: readStatements(o.callsDone),
    memoryIdleMB: megabytesOf(o.memoryIdle),
    memoryAllPendingMB: megabytesOf(o.memoryAllPending),
    storeCallsBefore: rounded(o.callsPending),
    storeCallsAfter: rounded(o.callsDone),
    serverCpuSeconds: o.serverCpuSeconds,
    profile: o.profile,
    heapProfile: o.heapProfile,
  };
}

/** CancelOperation on every name, `inflight` at a time; returns when the last answer arrived. */
async function cancelAll(control: grpc.Client, names: readonly string[], inflight: number): Promise<number> {
  let next = 0;
  let lastAnswered = 0;
  await Promise.all(
    Array.from({ length: Math.min(inflight, names.length) }, async () => {
      for (let i = next++; i < names.length; i = next++) {
        const request = encodeRequest(Operations.method.cancelOperation, { name: names[i] as string });
        lastAnswered = Math.max(lastAnswered, (await rawCall(control, PATHS.cancel, request)).receivedAt);
      }
    }),
  );
  return lastAnswered;
}

/** Every path once (start, wait, get, cancel) on every channel, so no connection or code is cold. */
async function warmUp(control: grpc.Client, channels: readonly grpc.Client[], completion: Completion): Promise<void> {
  await Promise.all(
    channels.map(async (channel) => {
      const duration = durationFromMs(completion === "cancel" ? HOUR_MS : 0);
      const started = await rawCall(control, PATHS.sleep, encodeRequest(Demo.method.sleep, { duration }));
      const name = fromBinary(OperationSchema, started.bytes).name;
      await rawCall(channel, PATHS.get, encodeRequest(Operations.method.getOperation, { name }));
      if (completion === "cancel") await rawCall(control, PATHS.cancel, encodeRequest(Operations.method.cancelOperation, { name }));
      const waited = await waitFor(channel, name, started.receivedAt);
      if (!fromBinary(OperationSchema, waited.reply.bytes).done) throw new Error(`warm-up: ${name} not done`);
    }),
  );
}

/** One WaitOperation with a long timeout; again only if it came back not done (it should not). */
async function waitFor(channel: grpc.Client, name: string, startedAt: number): Promise<Followed> {
  const request = encodeRequest(Operations.method.waitOperation, { name, timeout: durationFromMs(WAIT_TIMEOUT_MS) });
  for (let requests = 1; ; requests++) {
    const reply = await rawCall(channel, PATHS.wait, request, Date.now() + WAIT_TIMEOUT_MS + 10_000);
    if (isDone(reply.bytes)) return { name, startedAt, reply, requests, answersBeforeDone: requests - 1 };
  }
}

/** google-gax's Operation.startPolling_ with its default backoff: Get, then wait 100 ms, 130 ms, … ≤ 60 s. */
async function pollLikeGax(channel: grpc.Client, name: string, startedAt: number): Promise<Followed> {
  const request = encodeRequest(Operations.method.getOperation, { name });
  let delay = GAX_LRO_BACKOFF.initialRetryDelayMillis;
  for (let requests = 1; ; requests++) {
    const reply = await rawCall(channel, PATHS.get, request);
    if (isDone(reply.bytes)) return { name, startedAt, reply, requests, answersBeforeDone: requests - 1 };
    await sleep(delay);
    delay = Math.min(delay * GAX_LRO_BACKOFF.retryDelayMultiplier, GAX_LRO_BACKOFF.maxRetryDelayMillis);
  }
}

/**
 * What gax's schedule alone costs, with a server answering in no time: the polls fall at 0, 100, 230, 399 ms…
 * after the start; the operation is seen done at the first poll at or after its end. Returns that delay and
 * the polls it took.
 */
function idealGaxPoll(startedAt: number, endTime: number): { delayMs: number; requests: number } {
  let at = startedAt;
  let delay = GAX_LRO_BACKOFF.initialRetryDelayMillis;
  for (let requests = 1; ; requests++) {
    if (at >= endTime) return { delayMs: at - endTime, requests };
    at += delay;
    delay = Math.min(delay * GAX_LRO_BACKOFF.retryDelayMultiplier, GAX_LRO_BACKOFF.maxRetryDelayMillis);
  }
}

/**
 * Cheap: the Operation's Any fields stay bytes. Unpacking the metadata waits until every follower is done,
 * so that work in the client does not delay the answers still arriving and count as the server's delay.
 */
function isDone(bytes: Buffer): boolean {
  return fromBinary(OperationSchema, bytes).done;
}

/** SleepMetadata.end_time: set when the handler returned, or when the cancel of a queued operation began. */
function metadataEndTime(operation: Operation): number {
  const metadata = operation.metadata ? anyUnpack(operation.metadata, SleepMetadataSchema) : undefined;
  if (!metadata?.endTime) throw new Error(`${operation.name} has no end_time`);
  return timestampMs(metadata.endTime);
}

type MemoryMB = Record<keyof NodeJS.MemoryUsage, number>;

function megabytesOf(memory: NodeJS.MemoryUsage): MemoryMB {
  return {
    rss: megabytes(memory.rss),
    heapTotal: megabytes(memory.heapTotal),
    heapUsed: megabytes(memory.heapUsed),
    external: megabytes(memory.external),
    arrayBuffers: megabytes(memory.arrayBuffers),
  };
}

function rounded(calls: StoreCalls): StoreCalls {
  return Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

function report(results: readonly RunResult[], settings: Settings): void {
  const host = machine();
  const rows = results.map((r) => {
    const waiting = r.mode === "wait";
    const goal = waiting
      ? [r.delayP99Ms < GOAL_P99_MS ? "p99 met" : "**p99 missed**", Math.max(r.rssAllPendingMB, r.rssPeakMB) < GOAL_RSS_MB ? "RSS met" : "**RSS missed**"].join(", ")
      : "—";
    return [
      r.store === "sqlite" ? "SQLite" : "PostgreSQL",
      waiting ? "WaitOperation" : "gax default polling (GetOperation)",
      `${fmt(r.delayP50Ms)} / ${fmt(r.delayP99Ms)} / ${fmt(r.delayMaxMs)} ms`,
      `${r.requests.toLocaleString("en")} (${(r.requests / settings.n).toFixed(2)} / op)`,
      `${fmt(r.idealGaxPolling.p50Ms)} / ${fmt(r.idealGaxPolling.p99Ms)} ms, ${(r.idealGaxPolling.requests / settings.n).toFixed(2)} requests / op`,
      `${r.rssIdleMB.toFixed(0)} / ${r.rssAllPendingMB.toFixed(0)} / ${r.rssPeakMB.toFixed(0)} MB ` +
        `(heap alive ${r.memoryIdleMB.heapUsed.toFixed(0)} → ${r.memoryAllPendingMB.heapUsed.toFixed(0)} MB)`,
      `${r.readsPerOpBefore.toFixed(2)} + ${r.readsPerOpAfter.toFixed(2)} (${r.readStatementsAfter.toLocaleString("en")})`,
      `${r.serverCpuSeconds.toFixed(1)} s; completion: ${r.completionWindow.seconds.toFixed(1)} s, ` +
        `server ${r.completionWindow.serverCpuSeconds.toFixed(1)} s, client ${r.completionWindow.clientCpuSeconds.toFixed(1)} s`,
      `${r.startSeconds.toFixed(1)} s / ${fmt(r.completionSpreadMs)} ms`,
      goal,
    ];
  });
  const table = markdownTable(
    [
      "store",
      "client follows by",
      "done → client knows p50 / p99 / max",
      "requests",
      "gax's schedule alone (instant server): delay p50 / p99, requests",
      "server RSS idle / all pending / peak",
      "records read per op: pending + after completion (read statements after)",
      "server CPU, whole run; completion → last answer: wall, server CPU, client CPU",
      "start all / completion spread",
      `goals (Wait p99 < ${GOAL_P99_MS} ms, RSS < ${GOAL_RSS_MB} MB)`,
    ],
    rows,
  );
  const profiles = results.flatMap((r) => [
    ...(r.heapProfile
      ? [
          heapProfileMarkdown(
            summarizeHeapProfile(r.heapProfile, 20),
            `longrun server's heap with all ${settings.n.toLocaleString("en")} followers pending, ${r.store}, ${r.mode}: what the run allocated and still held ` +
              `(${r.heapProfile.slice(RESULTS_DIR.length)})`,
            settings.n,
          ),
        ]
      : []),
    ...(r.profile
      ? [
          profileMarkdown(
            summarizeProfile(r.profile, 20),
            `longrun server from the completion to the last answer, ${r.store}, ${r.mode} (${r.profile.slice(RESULTS_DIR.length)})`,
          ),
        ]
      : []),
  ]);
  const markdown = [
    `## wait — ${settings.n.toLocaleString("en")} WaitOperation calls vs google-gax's default polling`,
    "",
    `${new Date().toISOString()}; ${host.cpus} CPUs (${host.cpuModel}), ${host.memoryGiB} GiB, Node ${host.node}. ` +
      `${settings.n.toLocaleString("en")} Demo/Sleep operations started 64 at a time over gRPC against one \`longrun serve\` process; each client ` +
      `follows its operation as soon as it has it, spread over ${settings.channels} gRPC connections; ` +
      (settings.completion === "cancel"
        ? `all operations complete ${settings.atMs / 1000} s after the first start, cancelled by the benchmark, ${settings.cancelInflight} CancelOperation calls in flight (the server runs no handlers: \`--no-worker\`; a queued operation's cancel ends it at once). `
        : `the operations complete from ${settings.atMs / 1000} s after the first start ` +
          (settings.spreadMs === 0 ? "all at one moment" : `over ${settings.spreadMs / 1000} s, ${Math.round(settings.n / (settings.spreadMs / 1000)).toLocaleString("en")} a second in the order they were started`) +
          `, ending by themselves (${settings.handler === "quiet" ? "Demo/Sleep handlers sleeping in one timer without progress writes, bench/support/noop-methods.ts" : "the demo's Demo/Sleep handlers, writing progress about once a second"}, \`--concurrency n\`). `) +
      "Delay: the client's clock when the answer saying done arrived, minus the operation's end_time as the store recorded it " +
      "(the finish write's time; same machine; read through the Store API after the run). " +
      `Polling: google-gax's defaults (${GAX_LRO_BACKOFF.initialRetryDelayMillis} ms, ×${GAX_LRO_BACKOFF.retryDelayMultiplier}, ` +
      `≤ ${GAX_LRO_BACKOFF.maxRetryDelayMillis / 1000} s between one answer and the next request). RSS: VmRSS 0.5 s before the ` +
      "completion (all waits pending) and VmHWM (peak); MB = 10^6 bytes; heap alive: V8's used heap after a full collection, idle → all pending. Reads: Store.get and Store.getViews calls counted in the server " +
      "process (bench/support/serve-instrumented.ts).",
    "",
    table,
    ...profiles,
  ].join("\n");
  // The default run's report is wait.md; a cancel or profiled run keeps its own beside it.
  const file = `wait${settings.completion === "sleep" ? "" : `-${settings.completion}`}${settings.completion === "sleep" && settings.spreadMs === 0 ? "-burst" : ""}${settings.profile ? "-profiled" : ""}.md`;
  writeFileSync(join(RESULTS_DIR, file), markdown);
  console.log("\n" + markdown);
}

function fmt(ms: number): string {
  return ms >= 100 ? Math.round(ms).toLocaleString("en") : ms.toFixed(1);
}
