import { createHash } from "node:crypto";

/**
 * The SHA-256 hex of an API key's UTF-8 bytes: what the auth file's `apiKeys[].sha256` holds, so the file
 * never contains a usable key (`longrun auth hash-key` prints it).
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}
