import { Code, codeName } from "../core/code.js";
import type { Operation } from "../gen/google/longrunning/operations_pb.js";
import { CliError } from "./exit.js";
import type { Connection } from "./connection.js";
import { confirm, interactive, onInterrupt } from "./interrupt.js";
import { anyText, metadataView, operationJson, paint, printJson, stateOf } from "./output.js";
import { ProgressView } from "./progress-bar.js";

export interface FollowOptions {
  /** Give up after this long (exit 4, DEADLINE_EXCEEDED). */
  timeoutMs?: number;
  /** The metadata field holding progress in percent; default: found by name. */
  progressField?: string;
}

/** How often the progress is looked at while following. */
const PROGRESS_INTERVAL_MS = 500;

/**
 * Follows an operation until it is done, then prints its result: with `--json`, the done Operation; else a
 * live progress bar (plain progress lines when stderr is not a terminal), then the response, or a red
 * error line with the status code. Ctrl-C asks whether to cancel the operation (on a terminal); without a
 * terminal it stops following (exit 1) and leaves the operation running. Returns the exit code.
 */
export async function follow(conn: Connection, start: Operation, options: FollowOptions): Promise<number> {
  const { client, types } = conn;
  await types.learn([start]);
  const name = start.name;
  const abort = new AbortController();
  const view = conn.flags.json ? undefined : new ProgressView(name);
  let prompt: ReturnType<typeof confirm> | undefined;

  const stopListening = onInterrupt(() => {
    if (prompt !== undefined) return;
    if (!interactive()) {
      abort.abort(new CliError(Code.CANCELLED, `interrupted: ${name} goes on (cancel it with: longrun cancel ${name})`));
      return;
    }
    view?.pause();
    prompt = confirm(`Cancel operation ${name}? [y/N] `);
    prompt.answer.then(
      async (yes) => {
        prompt = undefined;
        if (!yes) {
          abort.abort(new CliError(Code.CANCELLED, `stopped waiting: ${name} goes on (cancel it with: longrun cancel ${name})`));
          return;
        }
        try {
          await client.cancel(name);
          process.stderr.write(`longrun: cancellation of ${name} requested\n`);
        } catch (err) {
          abort.abort(err);
        }
      },
      (err: unknown) => abort.abort(err),
    );
  });

  let final: Operation;
  try {
    if (conn.flags.json) {
      final = await client.wait(name, { signal: abort.signal, timeoutMs: options.timeoutMs });
    } else {
      final = start;
      for await (const op of client.watch(start, { signal: abort.signal, timeoutMs: options.timeoutMs, intervalMs: PROGRESS_INTERVAL_MS })) {
        final = op;
        if (prompt === undefined) view?.update({ progress: metadataView(op, client.registry, options.progressField).progress, state: stateOf(op) });
      }
    }
  } finally {
    stopListening();
    view?.stop();
    prompt?.close();
  }
  await types.learn([final]);
  return printOutcome(conn, final);
}

/** Prints a done operation's outcome; returns the exit code (0, or the error's code). */
export function printOutcome(conn: Connection, op: Operation): number {
  const registry = conn.client.registry;
  if (conn.flags.json) printJson(operationJson(op, registry));
  if (op.result.case === "error") {
    const status = op.result.value;
    const code = status.code >= 1 && status.code <= 16 ? (status.code as Code) : Code.UNKNOWN;
    if (!conn.flags.json) {
      const line = `${op.name} ${code === Code.CANCELLED ? "cancelled" : "failed"}: ${codeName(code)} (${code}): ${status.message}`;
      process.stderr.write(paint("red", line, process.stderr) + "\n");
    }
    return code;
  }
  if (!conn.flags.json) {
    process.stdout.write(paint("green", `${op.name} DONE`, process.stdout) + "\n");
    if (op.result.case === "response") process.stdout.write(anyText(op.result.value, registry) + "\n");
  }
  return 0;
}
