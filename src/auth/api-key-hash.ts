import { createHash } from "node:crypto";

/** The SHA-256 hex of an API key: how the auth file stores it, so the file never holds a key in clear. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}
