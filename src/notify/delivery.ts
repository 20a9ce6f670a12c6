/** What the sinks share: outcomes, bounded concurrency, timeouts, and destinations shown without secrets. */
import { DEFAULTS } from "../core/defaults.js";
import type { DeliveryOutcome } from "./sink.js";

/** How long one delivery attempt may take unless SinkOptions.timeoutMs says otherwise. */
export const DEFAULT_SINK_TIMEOUT_MS = DEFAULTS.notifyTimeoutMs.value;

export const DELIVERED: DeliveryOutcome = { kind: "delivered" };

export function retry(reason: string, retryAfterMs?: number): DeliveryOutcome {
  return retryAfterMs === undefined ? { kind: "retry", reason } : { kind: "retry", reason, retryAfterMs };
}

export function failed(reason: string): DeliveryOutcome {
  return { kind: "failed", reason };
}

/** `items` through `fn`, at most `limit` at a time, results in the order of `items`. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * `work` raced against `signal` and a timer of `timeoutMs`: resolves with what `work` gives, or with
 * `onStop("aborted" | "timed out")` if that comes first. For clients that take no AbortSignal: `work` goes
 * on in the background (its late result or error is dropped); at least once makes that harmless.
 */
export async function raceStop<T>(
  work: Promise<T>,
  signal: AbortSignal,
  timeoutMs: number,
  onStop: (why: "aborted" | "timed out") => T,
): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return onStop("aborted");
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onStop("timed out")), timeoutMs);
    onAbort = () => resolve(onStop("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
    work.catch(() => {});
  }
}

/** A positive timeout in milliseconds, or the default. */
export function timeoutOf(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_SINK_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`timeoutMs must be a positive number of milliseconds, not ${timeoutMs}`);
  return timeoutMs;
}

/**
 * A destination as logs show it: scheme, host, port and path; no user, password or query (which may
 * carry a token), `?…` standing for a query there was.
 */
export function redactedUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? "?…" : ""}`;
}

/**
 * An error's message for a reason, with the codes of its causes (`fetch failed: connect ECONNREFUSED
 * 127.0.0.1:9`), never a URL's credentials: callers pass URLs to clients without them.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message !== "" && !parts.includes(message)) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}
