/**
 * A method's scheduling controls (docs/scheduling.md): its retry policy for failed attempts, the time an
 * attempt may take, the time the whole operation may take, and a start request's own start time and
 * deadline. Declared with the method (`defineMethod`); checked once at start-up.
 */
import { Code, isErrorCode } from "../core/code.js";
import { invalidArgument } from "../core/errors.js";
import { MAX_PRIORITY, storablePriority } from "../store/shared/validate.js";
import type { ClaimLimit } from "../store/store.js";

/** Which failed attempts are run again, and when: Temporal's retry policy, as data. */
export interface RetryPolicy {
  /** Attempts in all, the first included (interrupted ones count too). @default the method's maxAttempts (3) */
  maxAttempts: number;
  /** The wait before the second attempt. @default 1 s */
  initialBackoffMs: number;
  /** No wait is longer. @default 5 min */
  maxBackoffMs: number;
  /** Each wait is the previous one times this. @default 2 */
  multiplier: number;
  /** The share of each wait drawn at random, in [0, 1]: 0.2 waits 80–100% of it. @default 0.2 */
  jitter: number;
  /**
   * The codes of a failed attempt that are worth another: an attempt failing with any other ends the
   * operation with its error. CANCELLED never is (cancellation is final). @default UNAVAILABLE,
   * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED — the codes Google's APIs call transient
   */
  retryableCodes: readonly Code[];
  /**
   * Whether an interrupted attempt (a worker lost or stopped) counts as one of `maxAttempts`. False: only
   * failures count, and interruptions alone are bounded by the method's maxAttempts. @default true
   */
  countInterruptions: boolean;
}

/** When a start asks its operation to run, and by when it must be done (both optional). */
export interface StartSchedule {
  /** Not run before this time: the operation waits, queued, visible, cancellable. */
  startTime?: Date | undefined;
  /** Done by this time, or it ends DEADLINE_EXCEEDED (an earlier one from `timeoutMs` wins). */
  deadline?: Date | undefined;
  /** Its priority, instead of the method's (`SchedulingOptions.priority`). */
  priority?: number | undefined;
}

/** The scheduling options of a method declaration (MethodOptions). */
export interface SchedulingOptions<Request> {
  /** Run failed attempts again (`{}` for the defaults). @default none: a failed attempt ends the operation */
  retry?: Partial<RetryPolicy> | undefined;
  /** An attempt's handler is aborted (ctx.signal, reason DEADLINE_EXCEEDED) after this long. @default none */
  attemptTimeoutMs?: number | undefined;
  /**
   * The operation ends DEADLINE_EXCEEDED if not done this long after its start time (its creation, or the
   * start time `schedule` gave), running or waiting to be retried alike. @default none
   */
  timeoutMs?: number | undefined;
  /**
   * The priority of the method's operations, an integer from -1,000,000 to 1,000,000: claimed as if due one
   * second earlier per point (so higher first, and a lower one waits at most the difference; docs/scheduling.md).
   * @default 0
   */
  priority?: number | undefined;
  /**
   * Fair queuing by key (docs/scheduling.md): each key's operations are placed `quantumMs` apart in the
   * claim order, after the key's last, so one key's backlog cannot hold back another's arrivals. With
   * `ratePerSecond`, a key also starts at most that many a second. @default none: claims in due-time order
   */
  fairness?: FairnessOptions<Request> | undefined;
  /**
   * At most `limit` of the method's operations running at once, and at most `perKey` of one key's — the
   * key as fair queuing's: `fairness.key(request)`, else the operation's parent — across all instances
   * (docs/scheduling.md). The others wait, queued, until a slot frees. @default none: as many as workers take
   */
  concurrency?: ConcurrencyOptions | undefined;
  /** A start's own start time, deadline and priority, from its request (a `schedule_time` field, say). @default none */
  schedule?: ((request: Request) => StartSchedule | undefined) | undefined;
}

export interface FairnessOptions<Request> {
  /** The key a start queues under (its tenant). @default the operation's parent ("" for names without one) */
  key?: ((request: Request) => string) | undefined;
  /**
   * How far apart one key's operations are placed. About 1 ÷ the method's throughput is right: smaller, and
   * a backlog started long ago still goes before new keys' arrivals; larger, and a key that queued a burst
   * stays behind other keys (only while they have work) for longer after it. @default 10 ms
   */
  quantumMs?: number | undefined;
  /** At most this many operations of a key start per second (the quantum becomes 1000 ÷ this, and places due times). */
  ratePerSecond?: number | undefined;
}

/** A method's concurrency limits (positive integers; at least one). */
export interface ConcurrencyOptions {
  /** At most this many of the method's operations running at once, cluster-wide. */
  limit?: number | undefined;
  /** At most this many of one key's operations running at once, cluster-wide. */
  perKey?: number | undefined;
}

export const TRANSIENT_CODES: readonly Code[] = [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.RESOURCE_EXHAUSTED, Code.ABORTED];

/** A method's scheduling, resolved and checked. */
export interface Scheduling<Request> {
  readonly retry: RetryPolicy | undefined;
  readonly attemptTimeoutMs: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly priority: number;
  readonly fairness: { key: ((request: Request) => string) | undefined; quantumMs: number; limitsRate: boolean } | undefined;
  readonly concurrency: { limit: number | undefined; perKey: number | undefined } | undefined;
  readonly schedule: ((request: Request) => StartSchedule | undefined) | undefined;
}

/** Resolves the options; throws an Error naming the problem (a programming error, found at start-up). */
export function resolveScheduling<Request>(fullName: string, options: SchedulingOptions<Request>, maxAttempts: number): Scheduling<Request> {
  const fail = (problem: string): never => {
    throw new Error(`${fullName}: ${problem}`);
  };
  const duration = (name: string, value: number | undefined): number | undefined => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) fail(`${name} must be a positive number of milliseconds`);
    return value;
  };
  let retry: RetryPolicy | undefined;
  if (options.retry !== undefined) {
    const given = options.retry;
    retry = {
      maxAttempts: given.maxAttempts ?? maxAttempts,
      initialBackoffMs: given.initialBackoffMs ?? 1000,
      maxBackoffMs: given.maxBackoffMs ?? 5 * 60_000,
      multiplier: given.multiplier ?? 2,
      jitter: given.jitter ?? 0.2,
      retryableCodes: [...(given.retryableCodes ?? TRANSIENT_CODES)],
      countInterruptions: given.countInterruptions ?? true,
    };
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) fail("retry.maxAttempts must be an integer >= 1");
    if (!(retry.initialBackoffMs >= 0) || !(retry.maxBackoffMs >= retry.initialBackoffMs)) fail("retry backoffs must be >= 0, maxBackoffMs >= initialBackoffMs");
    if (!(retry.multiplier >= 1)) fail("retry.multiplier must be >= 1");
    if (!(retry.jitter >= 0 && retry.jitter <= 1)) fail("retry.jitter must be in [0, 1]");
    for (const code of retry.retryableCodes) {
      if (!isErrorCode(code)) fail(`retry.retryableCodes: ${String(code)} is not a google.rpc.Code from 1 to 16`);
      if (code === Code.CANCELLED) fail("retry.retryableCodes: CANCELLED is final, never retried");
    }
  }
  const resolved: Scheduling<Request> = {
    retry,
    attemptTimeoutMs: duration("attemptTimeoutMs", options.attemptTimeoutMs),
    timeoutMs: duration("timeoutMs", options.timeoutMs),
    priority: options.priority ?? 0,
    fairness: fairnessOf(options.fairness, fail),
    concurrency: concurrencyOf(options.concurrency, fail),
    schedule: options.schedule,
  };
  if (!storablePriority(resolved.priority)) fail(`priority must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
  return resolved;
}

/**
 * The attempts of an operation that count against its limits: all of them, or, where the policy does not
 * count interruptions, the failed ones and this one.
 */
export function countedAttempts(policy: RetryPolicy | undefined, record: { attempt: number; interruptions?: number | undefined }): number {
  return policy !== undefined && !policy.countInterruptions ? record.attempt - (record.interruptions ?? 0) : record.attempt;
}

/**
 * When attempt `attempt + 1` is to run after attempt `attempt` (as countedAttempts counts it) failed with `code`; undefined when it is not
 * to (the code is not retryable, no attempt is left, or the next would start at or past the deadline).
 * The wait: initialBackoffMs × multiplier^(attempt − 1), at most maxBackoffMs, of which `jitter` is random.
 */
export function nextAttemptTime(policy: RetryPolicy | undefined, attempt: number, code: number, now: number, deadline: number | undefined, random: () => number): number | undefined {
  if (policy === undefined || attempt >= policy.maxAttempts || !policy.retryableCodes.includes(code)) return undefined;
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * policy.multiplier ** Math.min(attempt - 1, 60));
  const wait = Math.round(base * (1 - policy.jitter * random()));
  const at = now + wait;
  return deadline !== undefined && at >= deadline ? undefined : at;
}

/**
 * The start's run-after time and deadline: the schedule's, and `timeoutMs` after the start time. A
 * deadline not after the start time is the caller's mistake: INVALID_ARGUMENT, nothing created.
 */
export function startTimes<Request>(scheduling: Scheduling<Request>, request: Request, now: number): { runAfter: number; deadline: number | undefined; priority: number } {
  const given = scheduling.schedule?.(request);
  const runAfter = Math.max(now, given?.startTime?.getTime() ?? now);
  const byTimeout = scheduling.timeoutMs === undefined ? undefined : runAfter + scheduling.timeoutMs;
  const byRequest = given?.deadline?.getTime();
  const deadline = byTimeout === undefined ? byRequest : byRequest === undefined ? byTimeout : Math.min(byTimeout, byRequest);
  if (Number.isNaN(runAfter) || (byRequest !== undefined && Number.isNaN(byRequest))) throw invalidArgument("schedule", "the start time and deadline must be valid times");
  if (deadline !== undefined && deadline <= runAfter) {
    throw invalidArgument("deadline", `must be after the operation's start time (${new Date(runAfter).toISOString()})`);
  }
  const priority = given?.priority ?? scheduling.priority;
  if (!storablePriority(priority)) throw invalidArgument("priority", `must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
  return { runAfter, deadline, priority };
}

function fairnessOf<Request>(given: FairnessOptions<Request> | undefined, fail: (problem: string) => never): Scheduling<Request>["fairness"] {
  if (given === undefined) return undefined;
  const { ratePerSecond } = given;
  if (ratePerSecond !== undefined && !(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) fail("fairness.ratePerSecond must be a positive number");
  const quantumMs = ratePerSecond !== undefined ? 1000 / ratePerSecond : (given.quantumMs ?? 10);
  if (!(Number.isFinite(quantumMs) && quantumMs > 0)) fail("fairness.quantumMs must be a positive number of milliseconds");
  return { key: given.key, quantumMs: Math.max(1, Math.round(quantumMs)), limitsRate: ratePerSecond !== undefined };
}

function concurrencyOf(given: ConcurrencyOptions | undefined, fail: (problem: string) => never): Scheduling<unknown>["concurrency"] {
  if (given === undefined) return undefined;
  const { limit, perKey } = given;
  for (const [name, value] of [["limit", limit], ["perKey", perKey]] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) fail(`concurrency.${name} must be a positive integer`);
  }
  if (limit === undefined && perKey === undefined) fail("concurrency needs a limit, a perKey, or both");
  return { limit, perKey };
}

/** The key a start's operation counts under for its method's limit per key and its fair queue. */
export function groupKeyOf<Request>(scheduling: Scheduling<Request>, request: Request, parent: string): string | undefined {
  if (scheduling.fairness === undefined && scheduling.concurrency?.perKey === undefined) return undefined;
  return scheduling.fairness?.key?.(request) ?? parent;
}

/** The concurrency limits a claim of these methods carries (ClaimRequest.limits): those that declare any. */
export function claimLimits(methods: Iterable<{ fullName: string; scheduling: Scheduling<never> }>): ClaimLimit[] {
  const limits: ClaimLimit[] = [];
  for (const { fullName, scheduling } of methods) {
    if (scheduling.concurrency !== undefined) limits.push({ method: fullName, ...scheduling.concurrency });
  }
  return limits;
}

/** Why an operation ended for its deadline. */
export function deadlineMessage(deadline: number): string {
  return `The operation's deadline (${new Date(deadline).toISOString()}) passed.`;
}
