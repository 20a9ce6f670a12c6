export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export type { ListenerErrorHandler } from "../shared/change-feed.js";
