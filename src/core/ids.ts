import { randomFillSync } from "node:crypto";

/** Random bytes drawn at once for this many ids: one call into the CSPRNG per 256 ids instead of one each (~10 µs). */
const IDS_PER_DRAW = 256;
const ID_BYTES = 16;
const pool = Buffer.alloc(IDS_PER_DRAW * ID_BYTES);
let used = IDS_PER_DRAW * ID_BYTES;

/**
 * The time's digits: base 62, digits then capitals then small letters, which is their byte order — so a time
 * written in them compares as text (SQLite's BINARY, PostgreSQL's "C" collation) as it does as a number.
 * Neither `-` nor `_`: an id never starts with `-`, which a command line would read as an option.
 */
const TIME_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Digits of the time: milliseconds since the epoch, up to 62^8 − 1 (the year 8888). */
const TIME_DIGITS = 8;

/**
 * A new operation id: the time in milliseconds (8 characters of [0-9A-Za-z], ordered as bytes), then 128
 * random bits in base64url (22 characters): 30 characters of [A-Za-z0-9_-]. Opaque, URL-safe in a single
 * path segment, unguessable (the random part alone), and needing no coordination between instances.
 *
 * Why the time first (as UUIDv7 and ULID do): the stores index operations by id, and a new operation's
 * entry then goes at the end of that index instead of at a random place in it. The operations in flight —
 * the ones every claim, finish and read touches — sit together in the few pages last written, not one page
 * each across an index as large as the retention; on SQLite's 2 MB page cache that made the whole start →
 * claim → finish cycle cheaper (docs/benchmarks.md). Ids made in one millisecond are in random order among
 * themselves, and ids of instances with skewed clocks interleave: only locality depends on the order, never
 * correctness. What it gives away: the creation time, to the millisecond, to whoever sees the name — which
 * the operation's metadata (`create_time`) tells anyone who may read it anyway.
 *
 * The random bits come from the CSPRNG in draws of 256 ids' worth (as Node's randomUUID does), each id's 16
 * bytes used once.
 */
export function newOperationId(now = Date.now()): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const random = pool.toString("base64url", used, used + ID_BYTES);
  used += ID_BYTES;
  return timeDigits(now) + random;
}

let lastTime = -1;
let lastDigits = "";

/** `ms` in TIME_DIGITS ordered digits, most significant first (written once a millisecond). */
function timeDigits(ms: number): string {
  if (ms === lastTime) return lastDigits;
  lastTime = ms;
  let digits = "";
  let rest = Math.max(0, Math.floor(ms));
  for (let i = 0; i < TIME_DIGITS; i++) {
    digits = TIME_ALPHABET[rest % 62]! + digits;
    rest = Math.floor(rest / 62);
  }
  lastDigits = digits;
  return digits;
}

/** The characters an operation id may contain: what `newOperationId` makes, and what stays safe unencoded in a URL. */
export const OPERATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
