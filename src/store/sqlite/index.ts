export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
export type { ListenerErrorHandler } from "../change-feed.js";
