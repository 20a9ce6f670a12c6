/**
 * Where longrun reports what goes wrong in the background (store failures, a handler error it had to
 * drop, a detail it could not render): one function type for every part, so an application passes one.
 */
export type Logger = (message: string, err?: unknown) => void;

/** The default: standard error, prefixed. */
export const consoleLogger: Logger = (message, err) => console.error(`longrun: ${message}`, err ?? "");
