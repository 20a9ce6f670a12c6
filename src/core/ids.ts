import { randomFillSync } from "node:crypto";

/** Random bytes drawn at once for this many ids: one call into the CSPRNG per 256 ids instead of one each (~10 µs). */
const IDS_PER_DRAW = 256;
const ID_BYTES = 16;
const pool = Buffer.alloc(IDS_PER_DRAW * ID_BYTES);
let used = IDS_PER_DRAW * ID_BYTES;

/**
 * A new operation id: 128 random bits, base64url (22 characters of [A-Za-z0-9_-]). Opaque, URL-safe in a
 * single path segment, unguessable, and needing no coordination between instances. The bits come from the
 * CSPRNG in draws of 256 ids' worth (as Node's randomUUID does), each id's 16 bytes used once.
 */
export function newOperationId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString("base64url", used, used + ID_BYTES);
  used += ID_BYTES;
  return id;
}

/** The characters an operation id may contain: what `newOperationId` makes, and what stays safe unencoded in a URL. */
export const OPERATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
