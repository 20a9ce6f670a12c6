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

/** The default sink: one JSON object a line on standard error, tagged so log shippers can route it. */
export const jsonLinesAuditSink: AuditSink = (entry) => {
  process.stderr.write(`${JSON.stringify({ type: "longrun.audit", ...entry })}\n`);
};
