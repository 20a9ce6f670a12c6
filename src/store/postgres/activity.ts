import type { ActivityBucket, ActivityQuery } from "../store.js";
import { activityText, toBuckets } from "../shared/activity.js";
import type { Db } from "./db.js";

const PARAMS = { parent: "$1", since: "$2", until: "$3", bucket: "$4", resource: "$5" } as const;

/** Operations created and finished per bucket of the window, in one statement (shared/activity.ts). */
export async function activity(db: Db, query: ActivityQuery): Promise<ActivityBucket[]> {
  const ofResource = query.resource !== undefined;
  const values: unknown[] = [query.parent, query.since, query.until, Math.floor(query.bucketMs)];
  if (ofResource) values.push(query.resource);
  const { rows } = await db.query<{ bucket: string; started: string; finished: string }>(
    ofResource ? "activity_resource" : "activity",
    activityText(db.options.table, (name) => PARAMS[name], ofResource),
    values,
  );
  return toBuckets(query, rows);
}
