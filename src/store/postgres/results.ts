/** Shaping a batch statement's rows into per-input answers, in input order. */

/** The ids of `ids` that are in `found`, in the order of `ids` (the store core drops repeats). */
export function inInputOrder(ids: readonly string[], found: ReadonlySet<string>): string[] {
  return ids.filter((id) => found.has(id));
}

/** Per input, whether its 1-based ordinality (`WITH ORDINALITY`) is among `rows`. */
export function appliedFlags(length: number, rows: readonly { ord: number }[]): boolean[] {
  const applied = new Array<boolean>(length).fill(false);
  for (const row of rows) applied[row.ord - 1] = true;
  return applied;
}

/** One key per (operation, attempt) — a fenced write's target — for matching a statement's rows to its input in JavaScript. */
export function attemptKey(item: { id: string; attempt: number }): string {
  return `${item.attempt} ${item.id}`;
}
