import type { ClaimRequest, FinishRequest, NewOperation } from "../store.js";

/**
 * The longest principal or resource a store keeps: a longer one is refused, never cut (cut, it could name
 * someone, or something, else).
 */
export const MAX_STORED_NAME_LENGTH = 1024;

/**
 * NUL, or a UTF-16 surrogate without its other half (matched by code unit: no `u` flag). PostgreSQL's
 * text holds neither (NUL fails the statement, a lone surrogate comes back as U+FFFD), and a principal or
 * a resource must read back exactly as given, in every store.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `value` cannot be kept as a principal or a resource ("is 2000 characters long, more than 1024"), or
 * undefined when it can: a string of at most 1024 characters with no NUL and no lone surrogate.
 */
export function unstorableText(value: unknown): string | undefined {
  if (typeof value !== "string") return `must be a string, not ${value === null ? "null" : typeof value}`;
  if (value.length > MAX_STORED_NAME_LENGTH) return `is ${value.length} characters long, more than ${MAX_STORED_NAME_LENGTH}`;
  if (UNSTORABLE.test(value)) return "holds a NUL or a lone surrogate, which stores cannot keep";
  return undefined;
}

/**
 * Every principal and resource of a create batch is a storable string (or absent). Checked before any
 * SQL runs, so a bad one refuses the whole batch the same way in every store.
 */
export function checkNewOperations(operations: readonly NewOperation[]): void {
  for (const op of operations) {
    if (op.principal !== undefined) refuseUnstorable(op.id, "principal", op.principal);
    if (op.resource !== undefined) refuseUnstorable(op.id, "resource", op.resource);
    if (op.traceContext !== undefined) refuseUnstorable(op.id, "trace context", op.traceContext);
    if (op.retryOf !== undefined) refuseUnstorable(op.id, "retried operation's name", op.retryOf);
    if (op.groupKey !== undefined) refuseUnstorable(op.id, "group key", op.groupKey);
    if (op.fair !== undefined) {
      refuseUnstorable(op.id, "fair-queue key", op.fair.key);
      if (!(Number.isSafeInteger(op.fair.quantumMs) && op.fair.quantumMs > 0)) throw new TypeError(`the fair-queue quantum of operation ${op.id} must be a positive integer`);
    }
    if (op.priority !== undefined && !storablePriority(op.priority)) {
      throw new TypeError(`the priority of operation ${op.id} must be an integer from -${MAX_PRIORITY} to ${MAX_PRIORITY}`);
    }
  }
}

/** The largest priority a store keeps: a million seconds (11.6 days) of precedence, within a 32-bit integer. */
export const MAX_PRIORITY = 1_000_000;

/** Whether a priority is one stores keep: an integer within ±MAX_PRIORITY. */
export function storablePriority(priority: number): boolean {
  return Number.isInteger(priority) && Math.abs(priority) <= MAX_PRIORITY;
}

function refuseUnstorable(id: string, field: string, value: unknown): void {
  const problem = unstorableText(value);
  if (problem !== undefined) throw new TypeError(`the ${field} of operation ${id} ${problem}`);
}

/**
 * Exactly one of error and response, for every result of a finish batch. Checked before any SQL runs:
 * each store's CHECK constraint would catch it too, but only by failing the whole batch.
 */
export function checkFinishRequests(results: readonly FinishRequest[]): void {
  for (const r of results) {
    if ((r.error === undefined) === (r.response === undefined)) {
      throw new TypeError(`finish of operation ${r.id} needs exactly one of error and response`);
    }
  }
}

/** Whether a claim can take nothing at all (no methods, or no room), so no statement need run. */
export function claimsNothing(request: ClaimRequest): boolean {
  return request.methods.length === 0 || request.limit <= 0;
}

/**
 * Each claim limit a positive integer, and at least one per method named: a zero or a fraction would
 * block the method for good or mean nothing, refused before any SQL as a programming error.
 */
export function checkClaimLimits(request: ClaimRequest): void {
  for (const l of request.limits ?? []) {
    const positive = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n > 0);
    if (!positive(l.limit) || !positive(l.perKey) || (l.limit === undefined && l.perKey === undefined)) {
      throw new TypeError(`the concurrency limits of ${l.method} must be positive integers, at least one of limit and perKey`);
    }
  }
}
