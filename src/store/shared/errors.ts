import { Code } from "../../core/code.js";
import { Reason, RpcError } from "../../core/errors.js";

/**
 * What callers of any store see when it cannot be reached right now: UNAVAILABLE (which clients and the
 * runtime retry with backoff), reason STORE_UNAVAILABLE, the driver's error as the cause.
 */
export function storeUnavailable(cause: unknown): RpcError {
  return new RpcError(Code.UNAVAILABLE, "The operations store is unavailable; retry.", {
    reason: Reason.STORE_UNAVAILABLE,
    cause,
  });
}

/**
 * What callers see when the store has no space left to write (a full disk): UNAVAILABLE, reason STORE_FULL,
 * the driver's error as the cause. Not RESOURCE_EXHAUSTED: that is the caller's quota (HTTP 429), and
 * neither clients nor the runtime retry it; a full disk is the server's condition, and the same call
 * succeeds once an operator frees space (docs/reliability.md, "A full disk").
 */
export function storeFull(cause: unknown): RpcError {
  return new RpcError(Code.UNAVAILABLE, "The operations store has no space left to write; retry later.", {
    reason: Reason.STORE_FULL,
    cause,
  });
}

/**
 * Rethrow helper: a driver error that `isUnavailable` (the store's own knowledge of its driver) calls
 * transient becomes UNAVAILABLE; anything else is a real answer about the statement and stays as it is.
 */
export function toStoreError(error: unknown, isUnavailable: (error: unknown) => boolean): unknown {
  return isUnavailable(error) ? storeUnavailable(error) : error;
}
