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
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { openStore } from "../../src/index.js";
import type { ListCursor } from "../../src/store/store.js";
import { freshSchema, type TestSchema } from "../../test/support/postgres.js";
import { encodeRequest, ownChannel, rawCall } from "../support/grpc-raw.js";
import { appendJsonLines, machine, percentile, RESULTS_DIR, sleep } from "../support/measure.js";
import { megabytes, serverSource, startBenchServer, type StoreCalls } from "../support/server-process.js";
import { sleepMethodArgs } from "../support/noop-methods.js";
import { cancelAll, HOUR_MS, idealGaxPoll, metadataEndTime, PATHS, pollLikeGax, WAIT_TIMEOUT_MS, waitFor, warmUp } from "./follow.js";
import { report } from "./report.js";
import type { Completion, CompletionWindow, Followed, MemoryMB, Mode, RunResult, Settings, Store } from "./results.js";

/** Starts in flight at once while creating the operations (as e2e's load). */
const START_INFLIGHT = 64;

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

