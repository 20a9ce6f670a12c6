import type { LogFields, Logger } from "../core/logger.js";

/** One mutation as the audit log records it: who did what to which resource, and how it ended. */
export interface AuditEntry {
  /** ISO 8601 time the call was answered. */
  time: string;
  principal: string;
  /** The RPC's full name, `google.longrunning.Operations.CancelOperation`. */
  method: string;
  permission: string;
  /** The resource the permission was checked on: the one the request names. */
  resource: string;
  /** `OK`, `PERMISSION_DENIED`, or the name of the code the call failed with. */
  outcome: string;
  /** The operation the call created, for starts that succeeded. */
  operation?: string;
  /**
   * When the permission was not held on `resource` but on the resource the named operation belongs to
   * (an operation named without a parent: the resource its start was authorized on), that resource.
   */
  grantedOn?: string;
  /** The call's request id (CallContext.requestId): the same as on its log lines. */
  requestId?: string;
}

/** Where audit entries go; it must not throw (it is called after the answer is decided). */
export type AuditSink = (entry: AuditEntry) => void;

/** The tag of audit records among log lines, so log shippers can route them. */
export const AUDIT_TYPE = "longrun.audit";

/**
 * The default sink: each entry a record of the server's logger at `info`, message `audit`, tagged
 * `type: "longrun.audit"`, the entry's fields on it — so the logger's format, level and base fields apply
 * (with `longrun serve`, a pino line). The entry's `time` is left to the logger, whose lines carry their
 * own (pino's `time`, which it would otherwise clash with). A logger without `info` gets the record as a
 * plain line rather than lose it.
 */
export function loggerAuditSink(log: Logger): AuditSink {
  return ({ time: _time, ...entry }) => {
    const fields: LogFields = { type: AUDIT_TYPE, ...entry };
    if (log.info) log.info("audit", fields);
    else log("audit", undefined, fields);
  };
}

/** One JSON object a line on standard error, outside any logger (the default before audit went through it). */
export const jsonLinesAuditSink: AuditSink = (entry) => {
  process.stderr.write(`${JSON.stringify({ type: AUDIT_TYPE, ...entry })}\n`);
};
