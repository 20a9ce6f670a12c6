import type { Context } from "@opentelemetry/api";
import type { OperationRecord } from "../store/store.js";

/**
 * What the runtime asks of a tracer (src/observability/tracing.ts implements it with OpenTelemetry): a span
 * around each handler's run, joined to the trace of the operation's start (OperationRecord.traceContext).
 * Passed explicitly (RuntimeOptions.tracing); without one nothing is traced and nothing costs.
 */
export interface RuntimeTracing {
  /** Begins the span of one attempt's handler run. */
  execution(record: OperationRecord): ExecutionSpan;
}

export interface ExecutionSpan {
  /** The OpenTelemetry Context holding the span: the handler's `ctx.traceContext`. */
  readonly context: Context;
  /** Calls `fn` with the span's context active (`context.with`), so spans the handler starts nest under it. */
  run<T>(fn: () => T): T;
  /** Ends the span with the handler's outcome: a google.rpc.Code (0 is OK) and, for an error, its message. */
  end(code: number, message?: string): void;
}
