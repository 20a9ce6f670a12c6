import { Code } from "../core/code.js";

/**
 * How a failed call is retried, as data (the shape of a gRPC service config `retryPolicy`). The defaults
 * are those of google/longrunning/longrunning_grpc_service_config.json for Get/List/Cancel/Delete.
 */
export interface RetryPolicy {
  /** Attempts in all, counting the first. @default 5 */
  readonly maxAttempts: number;
  /** Upper bound of the first backoff, in ms. @default 500 */
  readonly initialBackoffMs: number;
  /** Upper bound of any backoff, in ms. @default 10_000 */
  readonly maxBackoffMs: number;
  /** Growth of the bound per attempt. @default 2 */
  readonly backoffMultiplier: number;
  /** The codes retried. @default [UNAVAILABLE] */
  readonly retryableCodes: readonly Code[];
}

/**
 * The codes a longrun client retries, each with the reason it is safe:
 * - UNAVAILABLE: the server could not be reached, or is shutting down / has lost its store
 *   (longrun's STORE_UNAVAILABLE, or STORE_FULL: the disk of a SQLite store is full). The RPCs retried by default are Get/List/Wait (reads), Cancel (idempotent
 *   by the spec: cancelling twice is the same as once) and Delete (a retry after a lost answer says
 *   NOT_FOUND, which tells the caller the operation is gone — what it asked for).
 *
 * Not retried: DEADLINE_EXCEEDED (the call may have taken effect, and the caller's budget is spent),
 * ABORTED and RESOURCE_EXHAUSTED (the server asks the caller to back off at a higher level), everything else
 * (retrying cannot change the answer). A long-running method's own RPC (start) is not retried unless the
 * caller asks (`retry` on the call): it creates an operation, and only a request with a `request_id`
 * (AIP-155) makes a second attempt safe.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialBackoffMs: 500,
  maxBackoffMs: 10_000,
  backoffMultiplier: 2,
  retryableCodes: [Code.UNAVAILABLE],
};

/** Whether a call that failed with `code` on attempt `attempt` (1 = the first) should be tried again. */
export function shouldRetry(policy: RetryPolicy, code: Code, attempt: number): boolean {
  return attempt < policy.maxAttempts && policy.retryableCodes.includes(code);
}

/**
 * The pause before attempt `attempt + 1`, after `attempt` failures: uniformly random up to
 * min(initial × multiplier^(attempt−1), max) ("full jitter", as the gRPC retry design A6 specifies), so
 * clients that failed together do not come back together.
 */
export function retryBackoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const bound = Math.min(policy.initialBackoffMs * policy.backoffMultiplier ** Math.max(0, attempt - 1), policy.maxBackoffMs);
  return Math.floor(random() * bound);
}

/** A policy with some fields replaced, checked. */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new RangeError("retry.maxAttempts must be an integer >= 1");
  if (!(policy.initialBackoffMs >= 0) || !(policy.maxBackoffMs >= policy.initialBackoffMs)) {
    throw new RangeError("retry: need 0 <= initialBackoffMs <= maxBackoffMs");
  }
  if (!(policy.backoffMultiplier >= 1)) throw new RangeError("retry.backoffMultiplier must be >= 1");
  return policy;
}
