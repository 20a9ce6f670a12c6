import { equals } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { DEFAULTS } from "../core/defaults.js";
import { OperationSchema, type Operation } from "../gen/google/longrunning/operations_pb.js";
import { CallFailedError, WaitTimeoutError } from "./errors.js";
import { sleep } from "./transport.js";

/**
 * How GetOperation is polled when the server has no WaitOperation: google-gax's defaults
 * (`createDefaultBackoffSettings()`: 100 ms, ×1.3, at most 60 s), plus jitter.
 */
export interface PollingPolicy {
  /** The first pause, in ms. @default 100 */
  readonly initialDelayMs: number;
  /** Growth of the pause after each poll that finds the operation running. @default 1.3 */
  readonly multiplier: number;
  /** The longest pause, in ms. @default 60_000 */
  readonly maxDelayMs: number;
  /**
   * Each pause is the nominal one times a random factor in [1 − jitter, 1 + jitter], so that clients that
   * started together do not poll together. 0 polls exactly on google-gax's schedule. @default 0.2
   */
  readonly jitter: number;
}

export const DEFAULT_POLLING_POLICY: PollingPolicy = { initialDelayMs: 100, multiplier: 1.3, maxDelayMs: 60_000, jitter: 0.2 };

/** The nominal pause after `previousMs`: ×multiplier, capped. */
export function nextPollDelayMs(policy: PollingPolicy, previousMs: number): number {
  return Math.min(previousMs * policy.multiplier, policy.maxDelayMs);
}

/** A nominal pause with jitter applied. */
export function jitteredMs(policy: PollingPolicy, nominalMs: number, random: () => number = Math.random): number {
  return Math.round(nominalMs * (1 - policy.jitter + 2 * policy.jitter * random()));
}

/** The nominal pauses of a poll loop, for documentation and tests: 100, 130, 169, … up to maxDelayMs. */
export function pollSchedule(policy: PollingPolicy, count: number): number[] {
  const out: number[] = [];
  for (let delay = policy.initialDelayMs; out.length < count; delay = nextPollDelayMs(policy, delay)) out.push(delay);
  return out;
}

export function pollingPolicy(overrides: Partial<PollingPolicy> = {}): PollingPolicy {
  const policy = { ...DEFAULT_POLLING_POLICY, ...overrides };
  if (!(policy.initialDelayMs > 0) || !(policy.maxDelayMs >= policy.initialDelayMs)) throw new RangeError("polling: need 0 < initialDelayMs <= maxDelayMs");
  if (!(policy.multiplier >= 1)) throw new RangeError("polling.multiplier must be >= 1");
  if (!(policy.jitter >= 0 && policy.jitter < 1)) throw new RangeError("polling.jitter must be in [0, 1)");
  return policy;
}

/** Options of every wait: `result()`, `updates()`, `client.wait()`. */
export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up (WaitTimeoutError, DEADLINE_EXCEEDED) when the operation is still running after this long. @default no limit (as google-gax) */
  timeoutMs?: number;
  /** The polling schedule, when the server has no WaitOperation. */
  polling?: Partial<PollingPolicy>;
  /**
   * The longest single WaitOperation; a longer wait is re-issued in chunks, each under an RPC deadline a
   * little longer than the chunk (servers answer before the deadline, with the latest state).
   * @default DEFAULTS.maxWaitMs (60 s, longrun's and Cloud's cap)
   */
  waitChunkMs?: number;
}

/** What waiting needs of the client. */
export interface WaitRpc {
  getOperation(name: string, options: { signal?: AbortSignal }): Promise<Operation>;
  waitOperation(name: string, timeoutMs: number, options: { signal?: AbortSignal; timeoutMs: number }): Promise<Operation>;
  /** Per client: set when the server answered WaitOperation with UNIMPLEMENTED; from then on it polls. */
  readonly waitSupport: { unimplemented: boolean };
}

/** A server's cap on one WaitOperation: longrun's default, and Cloud's. */
export const DEFAULT_WAIT_CHUNK_MS: number = DEFAULTS.maxWaitMs.value;
/** How much longer than the wait it asks for the RPC deadline of a WaitOperation is. */
export const WAIT_DEADLINE_SLACK_MS = 5_000;

/**
 * The snapshots of an operation until it is done: each answer of WaitOperation (the server holds the call
 * until the operation is done or `chunkMs` passes), or — when the server answers Wait with UNIMPLEMENTED —
 * of GetOperation polled with backoff (pauses capped at `maxPollDelayMs`). Ends after yielding the done
 * operation. Snapshots are not deduplicated.
 */
export async function* watchOperation(
  rpc: WaitRpc,
  name: string,
  options: WaitOptions & { maxPollDelayMs?: number },
): AsyncGenerator<Operation, void, undefined> {
  const { signal } = options;
  const base = pollingPolicy(options.polling);
  const policy = options.maxPollDelayMs === undefined ? base : { ...base, maxDelayMs: Math.max(base.initialDelayMs, Math.min(base.maxDelayMs, options.maxPollDelayMs)) };
  const chunkMs = options.waitChunkMs ?? DEFAULT_WAIT_CHUNK_MS;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const expired = (): boolean => Date.now() >= deadline;
  let delay = policy.initialDelayMs;
  for (;;) {
    signal?.throwIfAborted();
    if (!rpc.waitSupport.unimplemented) {
      const chunk = Math.max(0, Math.min(chunkMs, deadline - Date.now()));
      const askedAt = Date.now();
      let op: Operation | undefined;
      try {
        op = await rpc.waitOperation(name, chunk, { signal, timeoutMs: chunk + WAIT_DEADLINE_SLACK_MS });
      } catch (err) {
        if (!(err instanceof CallFailedError)) throw err;
        if (err.code === Code.UNIMPLEMENTED) {
          rpc.waitSupport.unimplemented = true;
          continue; // poll at once
        }
        // The server held the call past its deadline: no news; ask again (bounded by the total timeout).
        if (err.code !== Code.DEADLINE_EXCEEDED) throw err;
      }
      if (op) {
        yield op;
        if (op.done) return;
      }
      if (expired()) throw new WaitTimeoutError(name, options.timeoutMs ?? 0);
      // A server that used (most of) the time it was given: ask again at once.
      if (op && Date.now() - askedAt >= chunk / 2) {
        delay = policy.initialDelayMs;
        continue;
      }
      // An early answer (Wait is best effort; some servers answer at once): pace the loop like polling.
    } else {
      const op = await rpc.getOperation(name, { signal });
      yield op;
      if (op.done) return;
      if (expired()) throw new WaitTimeoutError(name, options.timeoutMs ?? 0);
    }
    // Sleep at most until the deadline, then look one last time.
    const pause = Math.min(jitteredMs(policy, delay), deadline - Date.now());
    if (pause > 0) await sleep(pause, signal);
    delay = nextPollDelayMs(policy, delay);
  }
}

/** Options of watching an operation's changes (`updates()`, `client.watch()`). */
export interface WatchOptions extends WaitOptions {
  /**
   * At most this long between two looks at the operation: each WaitOperation asks for at most this long,
   * and polling pauses (when the server has no Wait) are capped to it. @default 1000
   */
  intervalMs?: number;
}

/**
 * `initial` (when given), then each state of the operation that differs from the one before, until it is
 * done; the last one yielded is the done one.
 */
export async function* watchChanges(
  rpc: WaitRpc,
  name: string,
  initial: Operation | undefined,
  options: WatchOptions,
): AsyncGenerator<Operation, void, undefined> {
  let last = initial;
  if (last !== undefined) {
    yield last;
    if (last.done) return;
  }
  const intervalMs = options.intervalMs ?? 1000;
  for await (const op of watchOperation(rpc, name, { ...options, waitChunkMs: intervalMs, maxPollDelayMs: intervalMs })) {
    if (last !== undefined && equals(OperationSchema, op, last)) continue;
    last = op;
    yield op;
  }
}
