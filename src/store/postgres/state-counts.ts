import type { StateCount, StateCountQuery } from "../store.js";
import { stateCountsText, toStateCounts } from "../shared/state-counts.js";
import type { Db } from "./db.js";

const PARAMS = { parent: "$1", now: "$2", resource: "$3" } as const;

/** Operations of a parent by method and dashboard state, in one statement (shared/state-counts.ts). */
export async function stateCounts(db: Db, query: StateCountQuery): Promise<StateCount[]> {
  const ofResource = query.resource !== undefined;
  const values: unknown[] = [query.parent, query.now];
  if (ofResource) values.push(query.resource);
  const { rows } = await db.query<{ method: string; state: string; count: number }>(
    ofResource ? "state_counts_resource" : "state_counts",
    stateCountsText(db.options.table, (name) => PARAMS[name], ofResource),
    values,
  );
  return toStateCounts(rows);
}
