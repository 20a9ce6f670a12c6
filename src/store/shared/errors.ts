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
 * Rethrow helper: a driver error that `isUnavailable` (the store's own knowledge of its driver) calls
 * transient becomes UNAVAILABLE; anything else is a real answer about the statement and stays as it is.
 */
export function toStoreError(error: unknown, isUnavailable: (error: unknown) => boolean): unknown {
  return isUnavailable(error) ? storeUnavailable(error) : error;
}
