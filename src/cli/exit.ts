import { Code, codeName } from "../core/code.js";
import { StatusError, UnknownTypeError, UnexpectedTypeError } from "../client/errors.js";
import { paint } from "./output.js";

/**
 * Exit codes of the client commands: 0 on success; the google.rpc.Code number (1–16) when the call or the
 * operation failed (1 CANCELLED also when a wait was interrupted; 3 INVALID_ARGUMENT for a bad command line
 * or request; 4 DEADLINE_EXCEEDED when `wait --timeout` ran out); 2 UNKNOWN for anything else.
 */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof StatusError || err instanceof CliError) return err.code;
  return Code.UNKNOWN;
}

/** One red line on stderr for a failure: `longrun: NOT_FOUND (5): Operation "operations/x" not found.` */
export function reportError(err: unknown): void {
  let text: string;
  if (err instanceof StatusError) {
    const reason = err.reason ? ` [${err.reason}]` : "";
    text = `${codeName(err.code)} (${err.code}): ${err.status.message || err.message}${reason}`;
  } else if (err instanceof CliError) {
    text = err.message;
  } else if (err instanceof UnknownTypeError) {
    text = `message type "${err.typeName}" is unknown to the CLI: over REST, give it the server's descriptors (--descriptors FILE); over gRPC it asks the server by reflection`;
  } else if (err instanceof UnexpectedTypeError) {
    text = err.message;
  } else {
    text = err instanceof Error ? err.message : String(err);
  }
  process.stderr.write(paint("red", `longrun: ${text}`, process.stderr) + "\n");
}
