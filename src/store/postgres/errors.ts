import { toStoreError as mapStoreError } from "../shared/errors.js";

/**
 * SQLSTATEs that mean "the server or the connection is gone for now": the call may well succeed if
 * retried once PostgreSQL is back, so they surface as UNAVAILABLE (which clients retry with backoff).
 * Every other SQLSTATE is a real answer about the statement and propagates as it is.
 */
export const UNAVAILABLE_SQLSTATES: ReadonlyMap<string, string> = new Map([
  // Class 08, connection exception: every code of the class (matched by prefix); these are the known ones.
  ["08000", "connection_exception"],
  ["08003", "connection_does_not_exist"],
  ["08006", "connection_failure"],
  ["08001", "sqlclient_unable_to_establish_sqlconnection"],
  ["08004", "sqlserver_rejected_establishment_of_sqlconnection"],
  ["08007", "transaction_resolution_unknown"],
  ["08P01", "protocol_violation"],
  // Class 57, operator intervention: the server is shutting down or starting.
  ["57P01", "admin_shutdown"], // pg_terminate_backend, or a fast shutdown
  ["57P02", "crash_shutdown"], // another backend crashed; the server restarts
  ["57P03", "cannot_connect_now"], // starting up or in recovery
  // Class 53, insufficient resources.
  ["53300", "too_many_connections"],
  // Class 40, transaction rollback: two batch writes that touched the same rows in another order, or a
  // snapshot conflict. Nothing was written; the same call succeeds when retried, as UNAVAILABLE says
  // (and the runtime retries its result and progress writes on it).
  ["40P01", "deadlock_detected"],
  ["40001", "serialization_failure"],
]);

const UNAVAILABLE_SQLSTATE_CLASSES: readonly string[] = ["08"];

/** Socket errors (Node's `code`) on the way to or from the server. */
export const UNAVAILABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED", // nothing listens: the server is down or restarting
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN", // DNS lookup failed for now
]);

/** node-postgres's own messages for a connection that ended or never came up. */
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)/;

/** Whether an error from node-postgres means the store cannot be reached right now. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true; // one per address tried
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (code.length === 5 && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2)))) {
      return true;
    }
    if (UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  }
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/** Rethrow helper: connection-class failures become UNAVAILABLE, anything else stays as it is. */
export function toStoreError(error: unknown): unknown {
  return mapStoreError(error, isUnavailable);
}
