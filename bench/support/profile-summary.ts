/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` and bench/support/serve-instrumented.ts write) and ranks where the
 * time went: functions by self time, and the same summed by source (a file of src/, a package of
 * node_modules, one of node's own modules).
 *
 *   node --import tsx bench/support/profile-summary.ts PROFILE.cpuprofile [top]
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `function (file:line)`, or V8's own buckets: (program), (garbage collector). */
  name: string;
  ms: number;
  /** Share of the busy time (the profile less (idle)). */
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: SelfTime[];
  sources: SelfTime[];
}

const ROOT_URL = new URL("../..", import.meta.url).href;
/** CommonJS modules (node_modules) are named by path, ES modules by file URL. */
const ROOT_PATH = fileURLToPath(ROOT_URL);

/** Self time per function and per source, busiest first. */
export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const functionMs = new Map<string, number>();
  const sourceMs = new Map<string, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i: the time spent where sample i-1 was taken.
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (!node) continue;
    const frame = node.callFrame;
    functionMs.set(functionLabel(frame), (functionMs.get(functionLabel(frame)) ?? 0) + ms);
    sourceMs.set(sourceLabel(frame), (sourceMs.get(sourceLabel(frame)) ?? 0) + ms);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const idleMs = functionMs.get("(idle)") ?? 0;
  const busyMs = Math.max(1e-9, totalMs - idleMs);
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m]
      .filter(([name]) => name !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, percent: (100 * ms) / busyMs }));
  return { totalMs, idleMs, functions: rank(functionMs), sources: rank(sourceMs) };
}

function shortUrl(url: string): string {
  if (url.startsWith(ROOT_URL)) return url.slice(ROOT_URL.length);
  if (url.startsWith(ROOT_PATH)) return url.slice(ROOT_PATH.length);
  return url.replace(/^file:\/\//, "");
}

function functionLabel(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : `${frame.functionName || "(anonymous)"} (native)`;
  // tsx compiles src/ without line breaks: a line number there says nothing.
  const line = frame.lineNumber > 0 ? `:${frame.lineNumber + 1}` : "";
  return `${frame.functionName || "(anonymous)"} (${shortUrl(frame.url)}${line})`;
}

/** src/… and bench/… files by name; node_modules by package; node's own modules one by one. */
function sourceLabel(frame: CallFrame): string {
  if (frame.url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const url = shortUrl(frame.url);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return pkg ? `node_modules/${pkg[1]}` : url;
}

interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapProfileNode[];
}

/**
 * A sampling heap profile (`.heapprofile`, from HeapProfiler.getSamplingProfile): the bytes still alive,
 * estimated from the samples, by allocating function and by source. `ms` fields hold bytes here.
 */
export function summarizeHeapProfile(path: string, top = 25): { totalBytes: number; functions: SelfTime[]; sources: SelfTime[] } {
  const { head } = JSON.parse(readFileSync(path, "utf8")) as { head: HeapProfileNode };
  const functionBytes = new Map<string, number>();
  const sourceBytes = new Map<string, number>();
  let totalBytes = 0;
  const visit = (node: HeapProfileNode): void => {
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      const f = functionLabel(node.callFrame);
      const src = sourceLabel(node.callFrame);
      functionBytes.set(f, (functionBytes.get(f) ?? 0) + node.selfSize);
      sourceBytes.set(src, (sourceBytes.get(src) ?? 0) + node.selfSize);
    }
    for (const child of node.children) visit(child);
  };
  visit(head);
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => ({ name, ms: bytes, percent: (100 * bytes) / Math.max(1, totalBytes) }));
  return { totalBytes, functions: rank(functionBytes), sources: rank(sourceBytes) };
}

/** The heap summary as markdown tables, `perItem` dividing the bytes (per pending wait, say). */
export function heapProfileMarkdown(summary: ReturnType<typeof summarizeHeapProfile>, title: string, perItem: number): string {
  const row = (t: SelfTime): string =>
    `| ${t.name.replace(/\|/g, "\\|")} | ${(t.ms / 1e6).toFixed(1)} | ${(t.ms / perItem).toFixed(0)} | ${t.percent.toFixed(1)}% |`;
  return [
    `#### ${title}`,
    "",
    `${(summary.totalBytes / 1e6).toFixed(1)} MB alive (sampled estimate), ${(summary.totalBytes / perItem).toFixed(0)} bytes per item.`,
    "",
    "| allocated by (alive) | MB | bytes / item | share |",
    "|---|---|---|---|",
    ...summary.functions.map(row),
    "",
    "| source (alive) | MB | bytes / item | share |",
    "|---|---|---|---|",
    ...summary.sources.map(row),
    "",
  ].join("\n");
}

/** The summary as markdown tables. */
export function profileMarkdown(summary: ProfileSummary, title: string): string {
  const row = (t: SelfTime): string => `| ${t.name.replace(/\|/g, "\\|")} | ${t.ms.toFixed(0)} | ${t.percent.toFixed(1)}% |`;
  return [
    `#### ${title}`,
    "",
    `Profile ${(summary.totalMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s; shares are of the busy time.`,
    "",
    "| function (self time) | ms | share |",
    "|---|---|---|",
    ...summary.functions.map(row),
    "",
    "| source (self time) | ms | share |",
    "|---|---|---|",
    ...summary.sources.map(row),
    "",
  ].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    console.error("usage: node --import tsx bench/support/profile-summary.ts PROFILE.cpuprofile [top]");
    process.exit(2);
  }
  console.log(profileMarkdown(summarizeProfile(path, Number(top ?? 25)), path));
}
