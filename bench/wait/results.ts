/** What one wait run is asked (Settings) and what it measured (RunResult). */
import type { RawReply } from "../support/grpc-raw.js";
import type { StoreCalls } from "../support/server-process.js";

export type Store = "sqlite" | "postgres";
export type Mode = "wait" | "poll";
export type Completion = "cancel" | "sleep";

export interface Settings {
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

export interface RunResult {
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
export interface CompletionWindow {
  seconds: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

export interface Followed {
  name: string;
  /** Date.now() when the start's answer arrived: where gax's polling schedule begins. */
  startedAt: number;
  /** The answer that said done: its bytes are decoded once every follower is done. */
  reply: RawReply;
  requests: number;
  answersBeforeDone: number;
}

export type MemoryMB = Record<keyof NodeJS.MemoryUsage, number>;
