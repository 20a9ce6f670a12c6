import type { ClaimRequest, FinishRequest } from "../store.js";

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
