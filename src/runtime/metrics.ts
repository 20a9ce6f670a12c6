/**
 * What the runtime tells a metrics collector (src/observability/ implements it for Prometheus): a few
 * calls at the points an operation passes, each a counter or a histogram sample there. Passed explicitly
 * (RuntimeOptions.metrics); without one, `NO_METRICS` takes every call and does nothing.
 */
export interface RuntimeMetrics {
  /** An operation was claimed for its first attempt, `seconds` after it was created. */
  claimed(method: string, seconds: number): void;
  /** A handler returned or threw after `seconds`. */
  handled(method: string, seconds: number): void;
  /** An operation's result was written (applied), ending it with `code` (google.rpc.Code; 0 is OK). */
  finished(method: string, code: number): void;
  /** A running attempt lost its lease: another worker claimed the operation. */
  leaseLost(): void;
}

export const NO_METRICS: RuntimeMetrics = {
  claimed() {},
  handled() {},
  finished() {},
  leaseLost() {},
};
