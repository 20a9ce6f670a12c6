import type { ClaimRequest, FinishRequest, NewOperation } from "../store.js";

/** The longest principal a store keeps: a longer one is refused, never cut (cut, it could name someone else). */
export const MAX_PRINCIPAL_LENGTH = 1024;

/**
 * NUL, or a UTF-16 surrogate without its other half (matched by code unit: no `u` flag). PostgreSQL's
 * text holds neither (NUL fails the statement, a lone surrogate comes back as U+FFFD), and a principal
 * must read back exactly as given, in every store.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every principal of a create batch is a storable string (or absent). Checked before any SQL runs, so a
 * bad one refuses the whole batch the same way in every store.
 */
export function checkNewOperations(operations: readonly NewOperation[]): void {
  for (const op of operations) {
    const { principal } = op;
    if (principal === undefined) continue;
    if (typeof principal !== "string") {
      throw new TypeError(`the principal of operation ${op.id} must be a string, not ${typeof principal}`);
    }
    if (principal.length > MAX_PRINCIPAL_LENGTH) {
      throw new TypeError(`the principal of operation ${op.id} is ${principal.length} characters long, more than ${MAX_PRINCIPAL_LENGTH}`);
    }
    if (UNSTORABLE.test(principal)) {
      throw new TypeError(`the principal of operation ${op.id} holds a NUL or a lone surrogate, which stores cannot keep`);
    }
  }
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
