/** Structured fields of a log line: `operation`, `method`, `requestId`… (never a credential). */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * Where longrun reports what goes wrong in the background (store failures, a handler error it had to
 * drop, a detail it could not render): one function type for every part, so an application passes one.
 * `fields` name what the line is about (`{ operation, method }`, `{ requestId, method }`); a logger may
 * ignore them. A logger may also have `debug`, for lines below problems (one per RPC): called only if set;
 * and `info`, for records of what happened that are no problem (the audit log's entries).
 */
export interface Logger {
  (message: string, err?: unknown, fields?: LogFields): void;
  debug?: ((message: string, fields?: LogFields) => void) | undefined;
  info?: ((message: string, fields?: LogFields) => void) | undefined;
}

/** The default: standard error, prefixed; fields as ` key=value` after the message. */
export const consoleLogger: Logger = Object.assign(
  (message: string, err?: unknown, fields?: LogFields) => console.error(`longrun: ${message}${formatFields(fields)}`, err ?? ""),
  { info: (message: string, fields?: LogFields) => console.error(`longrun: ${message}${formatFields(fields)}`) },
);

function formatFields(fields: LogFields | undefined): string {
  if (fields === undefined) return "";
  let text = "";
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) text += ` ${key}=${String(value)}`;
  return text;
}
