import type { OperationRecord } from "../store.js";

/**
 * The ids a change event names: each once, in the order of its first appearance. A batch may name one
 * operation several times (two progress updates of one attempt, a repeated id in delete or cancel); both
 * stores announce it once, so listeners need not deduplicate (until this was shared, SQLite announced a
 * repeated progress update once per update and PostgreSQL once).
 */
export function uniqueIds(ids: readonly string[]): string[] {
  if (ids.length < 2) return ids as string[];
  const unique = new Set(ids);
  return unique.size === ids.length ? (ids as string[]) : [...unique];
}

/** The ids of the requests applied, each once, in input order. */
export function appliedIds(requests: readonly { id: string }[], applied: readonly boolean[]): string[] {
  const ids: string[] = [];
  for (let i = 0; i < requests.length; i++) if (applied[i] === true) ids.push(requests[i]!.id);
  return uniqueIds(ids);
}

/** Claimed records, highest priority first, then oldest first by (createTime, id): the order callers start them in. */
export function inClaimOrder(records: OperationRecord[]): OperationRecord[] {
  return records.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.createTime - b.createTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
