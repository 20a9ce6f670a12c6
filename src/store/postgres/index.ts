export { PostgresStore } from "./postgres-store.js";
export { migrate, type MigrateOptions } from "./migrate.js";
export type { PostgresStoreOptions } from "./options.js";
export type { ListenerErrorHandler } from "../shared/change-feed.js";
export { UNAVAILABLE_SQLSTATES, UNAVAILABLE_SOCKET_CODES } from "./errors.js";
