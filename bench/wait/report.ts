/** The wait report: one row per store and mode against the goals, and the profiles' top functions. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { heapProfileMarkdown, profileMarkdown, summarizeHeapProfile, summarizeProfile } from "../support/profile-summary.js";
import { machine, markdownTable, RESULTS_DIR } from "../support/measure.js";
import { GAX_LRO_BACKOFF } from "./follow.js";
import type { RunResult, Settings } from "./results.js";

const GOAL_P99_MS = 50;
const GOAL_RSS_MB = 300;

export function report(results: readonly RunResult[], settings: Settings): void {
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

