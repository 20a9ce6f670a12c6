import { Code } from "../core/code.js";
import { internalError, RpcError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Status } from "../gen/google/rpc/status_pb.js";

/**
 * The google.rpc.Status a failed call answers with, on gRPC (`grpc-status-details-bin`) and REST (the
 * `{"error": …}` envelope) alike: an RpcError's code, message and details, plus its ErrorInfo in the
 * deployment's `domain` (AIP-193). Anything else thrown is a bug: logged with `what`, answered INTERNAL
 * without its text or stack.
 */
export function failureStatus(err: unknown, domain: string, log: Logger, what: string): Status {
  let error: RpcError;
  if (err instanceof RpcError) {
    error = err;
  } else {
    log(what, err);
    error = internalError();
  }
  const status = error.toStatus(domain);
  // An "error" with code OK is a bug in whoever threw it; never answer success with an error.
  if (status.code === Code.OK) status.code = Code.UNKNOWN;
  return status;
}
