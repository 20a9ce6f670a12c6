import pg from "pg";
import type { ChangeEvent, ChangeKind } from "../store.js";
import type { CompiledOptions } from "./options.js";

/**
 * Cross-instance change events: NOTIFY `<schema>_changes`, sent by the write statement itself (so exactly
 * when it commits), a latency hint only — the table stays the truth.
 *
 * Payload: JSON `{"k": kind, "o": instanceId, "i": [ids]}`. PostgreSQL refuses payloads of 8000 bytes or
 * more, so a write that changed many operations sends several notifications, each listing the ids that fit
 * in about IDS_PER_NOTIFICATION_BYTES (a 1,000-operation batch of 30-character ids: 6 notifications).
 * Should one still not fit (an instanceId or id of extraordinary length), it is sent without `i`, and
 * receivers deliver it as "resync": re-check everything waited on.
 */
export const IDS_PER_NOTIFICATION_BYTES = 6000;

/** PostgreSQL's limit on a notification payload (it must be shorter than this). */
const MAX_PAYLOAD_BYTES = 8000;

/** The kinds a write announces; "resync" is only ever local. */
export type NotifiedKind = Exclude<ChangeKind, "resync">;

const KINDS: ReadonlySet<string> = new Set<NotifiedKind>(["created", "progress", "cancel-requested", "control-requested", "done", "deleted", "released", "events"]);

/**
 * A CTE named `notified` sending the notifications for the ids in `source` (a CTE or table with an `id`
 * column), one per chunk of ids. PostgreSQL only runs a CTE that is read: the statement must read
 * `notified` (see `NOTIFIED_JOIN`) for the notifications to go out.
 */
export function notifiedCte(o: CompiledOptions, kind: NotifiedKind, source: string): string {
  const head = pg.escapeLiteral(`{"k":${JSON.stringify(kind)},"o":${JSON.stringify(o.instanceId)},"i":`);
  const withoutIds = pg.escapeLiteral(JSON.stringify({ k: kind, o: o.instanceId }));
  return `notified AS (
    SELECT pg_notify(${pg.escapeLiteral(o.channel)},
                     CASE WHEN octet_length(p.payload) < ${MAX_PAYLOAD_BYTES} THEN p.payload ELSE ${withoutIds} END)
    FROM (
      SELECT ${head} || json_agg(c.id ORDER BY c.id)::text || '}' AS payload
      FROM (
        -- Running total of each id's JSON size (quotes, escapes, the ", " between): its chunk number.
        SELECT id, sum(octet_length(to_json(id)::text) + 2) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING)
                   / ${IDS_PER_NOTIFICATION_BYTES} AS chunk
        FROM ${source}
      ) c
      GROUP BY c.chunk
    ) p
  )`;
}

/**
 * Appended to a statement's FROM list so it reads `notified` to the end (count(*) consumes every row):
 * one row, so the statement's own rows are unchanged.
 */
export const NOTIFIED_JOIN = "CROSS JOIN (SELECT count(*) AS sent FROM notified) notified_count";

/**
 * The event a notification payload carries, or undefined when it is not one of ours to deliver (another
 * program's, malformed, or this instance's own echo).
 */
export function decodeNotification(payload: string, instanceId: string): ChangeEvent | undefined {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const { k, o, i } = message as { k?: unknown; o?: unknown; i?: unknown };
  if (typeof k !== "string" || !KINDS.has(k) || o === instanceId) return undefined;
  if (i === undefined) return { kind: "resync", ids: [] };
  if (!Array.isArray(i) || !i.every((id) => typeof id === "string")) return undefined;
  if (i.length === 0) return undefined;
  return { kind: k as NotifiedKind, ids: i as string[] };
}
