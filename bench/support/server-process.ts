/**
 * A real `longrun serve` process for the wait and rpc benchmarks, as test/support/process.ts starts one,
 * plus what those benchmarks measure: its resident memory and CPU time (from /proc), and, through
 * bench/support/serve-instrumented.ts over IPC, its Store calls and a V8 CPU profile of a chosen window.
 *
 * The server runs as deployed: compiled JavaScript (`npm run build`'s dist/, built afresh once per benchmark
 * process), not through tsx, whose loader thread alone is ~49 MB of resident memory. So does a bare server
 * given as `entry`, so that both sides of a comparison run the same way. LONGRUN_BENCH_FROM=sources runs
 * them through tsx instead.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const INSTRUMENTED_CLI = fileURLToPath(new URL("./serve-instrumented.ts", import.meta.url));
const CLI = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const BUILD = fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url));
const FROM_SOURCES = process.env.LONGRUN_BENCH_FROM === "sources";
let built = false;

/** How to run a TypeScript file of this checkout: its compiled copy in dist/ (built on first use), or through tsx. */
function nodeArgsFor(script: string): string[] {
  return FROM_SOURCES ? ["--import", "tsx", script] : [compiledPath(script)];
}

/** A TypeScript file of this checkout as compiled in dist/; any other path (or argument) as it is. */
function compiledPath(path: string): string {
  const inside = relative(ROOT, path);
  if (FROM_SOURCES || !path.endsWith(".ts") || inside.startsWith("..") || isAbsolute(inside)) return path;
  if (!built) {
    execFileSync(process.execPath, [BUILD], { cwd: ROOT, stdio: "ignore" });
    built = true;
  }
  return join(ROOT, "dist", inside).replace(/\.ts$/, ".js");
}

/** Whether servers run compiled (dist/) or from the sources through tsx: for the reports. */
export function serverRuntime(): string {
  return FROM_SOURCES ? "from the sources through tsx" : "compiled (dist/, npm run build)";
}

/** /proc/<pid>/stat counts CPU time in clock ticks; Linux's USER_HZ is 100 on every common platform. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Per Store method: calls; ids or records passed in (`<method>.items`) for the batched ones; milliseconds
 * to settle, summed (`<method>.ms`) and the longest (`<method>.maxMs`).
 */
export type StoreCalls = Record<string, number>;

/** What the parent asks bench/support/serve-instrumented.ts over IPC, one request at a time. */
export type InstrumentRequest =
  | { kind: "store-calls" }
  | { kind: "memory"; collectGarbage: boolean }
  | { kind: "cpu-profile-start" }
  | { kind: "cpu-profile-stop"; path: string }
  | { kind: "heap-profile-start" }
  | { kind: "heap-profile-stop"; path: string };
export type InstrumentReply =
  | { kind: "store-calls"; storeCalls: StoreCalls }
  | { kind: "memory"; memory: NodeJS.MemoryUsage }
  | { kind: "cpu-profile-start" }
  | { kind: "cpu-profile-stop" }
  | { kind: "heap-profile-start" }
  | { kind: "heap-profile-stop" }
  | { kind: "error"; message: string };

export interface BenchServerOptions {
  /** `longrun serve` flags (ports are picked for you). */
  args: readonly string[];
  env?: Record<string, string>;
  /**
   * Run longrun through bench/support/serve-instrumented.ts (Store call counts, profilers). Its wrappers cost the
   * server about 2% per call: a throughput comparison runs without them. @default true
   */
  instruments?: boolean;
  /** What to run instead of longrun, e.g. a bare server script (no instruments then). */
  entry?: string;
}

export interface BenchServer {
  child: ChildProcess;
  pid: number;
  grpcAddress: string;
  httpUrl: string;
  output(): string;
  /** VmRSS: resident memory now, in bytes. */
  rssBytes(): number;
  /** VmHWM: the highest resident memory since the process started, in bytes. */
  peakRssBytes(): number;
  /** User + system CPU time used so far, in seconds. */
  cpuSeconds(): number;
  /** The same, of the main thread alone (the one running JavaScript; not the worker threads, GC helpers, libuv's pool). */
  mainThreadCpuSeconds(): number;
  /** The Store calls the server made since the previous call of this (or since it started). Instruments only. */
  storeCalls(): Promise<StoreCalls>;
  /** process.memoryUsage() in the server, after a full garbage collection if asked (it changes the RSS after it). */
  memoryUsage(options: { collectGarbage: boolean }): Promise<NodeJS.MemoryUsage>;
  /** Starts V8's sampling CPU profiler in the server (1 ms interval, as `node --cpu-prof`). */
  startCpuProfile(): Promise<void>;
  /** Stops it and writes the profile (`.cpuprofile`, as `node --cpu-prof` writes) to `path`. */
  stopCpuProfile(path: string): Promise<void>;
  /** Starts V8's sampling heap profiler in the server. */
  startHeapProfile(): Promise<void>;
  /** Writes what is still alive of what was allocated since the start, by stack (`.heapprofile`), to `path`. */
  stopHeapProfile(path: string): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts the process and waits until it prints where it listens (gRPC and REST). */
export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  const script = options.entry ?? (options.instruments === false ? CLI : INSTRUMENTED_CLI);
  const entryArgs = options.entry ? [] : ["serve", "--grpc-port", "0", "--http-port", "0"];
  // Modules the server loads by path (`--methods bench/support/noop-methods.ts`) run compiled too.
  const child = spawn(process.execPath, [...nodeArgsFor(script), ...entryArgs, ...options.args.map(compiledPath)], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const started = Date.now();
  while (!/REST listening on (\S+)/.test(out) || !/gRPC listening on (\S+)/.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited early:\n${out}`);
    if (Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`server did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const pid = child.pid as number;
  return {
    child,
    pid,
    grpcAddress: /gRPC listening on (\S+)/.exec(out)?.[1] ?? "",
    httpUrl: /REST listening on (\S+)/.exec(out)?.[1] ?? "",
    output: () => out,
    rssBytes: () => procStatusKb(pid, "VmRSS") * 1024,
    peakRssBytes: () => procStatusKb(pid, "VmHWM") * 1024,
    cpuSeconds: () => procCpuSeconds(pid),
    mainThreadCpuSeconds: () => procCpuSeconds(pid, pid),
    storeCalls: async () => {
      const reply = await ask(child, { kind: "store-calls" });
      if (reply.kind !== "store-calls") throw new Error(`unexpected reply ${reply.kind}`);
      return reply.storeCalls;
    },
    memoryUsage: async ({ collectGarbage }) => {
      const reply = await ask(child, { kind: "memory", collectGarbage });
      if (reply.kind !== "memory") throw new Error(`unexpected reply ${reply.kind}`);
      return reply.memory;
    },
    startCpuProfile: async () => void (await ask(child, { kind: "cpu-profile-start" })),
    stopCpuProfile: async (path) => void (await ask(child, { kind: "cpu-profile-stop", path })),
    startHeapProfile: async () => void (await ask(child, { kind: "heap-profile-start" })),
    stopHeapProfile: async (path) => void (await ask(child, { kind: "heap-profile-stop", path })),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function procStatusKb(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Sends one request to bench/support/serve-instrumented.ts and waits for its reply (requests are not interleaved). */
function ask(child: ChildProcess, request: InstrumentRequest): Promise<InstrumentReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`the server did not answer ${request.kind} within 30 s`));
    }, 30_000);
    const onMessage = (message: InstrumentReply): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      if (message.kind === "error") reject(new Error(`${request.kind}: ${message.message}`));
      else resolve(message);
    };
    child.on("message", onMessage);
    child.send(request);
  });
}

/** Bytes as MB (10^6), the unit the goals are written in. */
/** CPU seconds (user + system) a process has used so far, from /proc. */
/** A process's CPU seconds, or one of its threads' (`thread`: its id; the main thread's is the pid). */
export function procCpuSeconds(pid: number, thread?: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function megabytes(bytes: number): number {
  return bytes / 1e6;
}

/**
 * Which server code a result was measured on: the commit, and the files of src/ changed from it (src/ moves
 * while benchmarks are written; a number is only comparable with the code it came from).
 */
export function serverSource(): { commit: string; uncommittedSrc: string[] } {
  // Only trailing newlines go: porcelain lines start with a status column that may be a space.
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).replace(/\n+$/, "");
  try {
    const changed = git("status", "--porcelain", "--", "src");
    return { commit: git("rev-parse", "--short", "HEAD"), uncommittedSrc: changed === "" ? [] : changed.split("\n").map((l) => l.slice(3)) };
  } catch {
    return { commit: "unknown (not a git checkout)", uncommittedSrc: [] };
  }
}
