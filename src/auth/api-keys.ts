import { Reason, unauthenticated } from "../core/errors.js";
import { hashApiKey } from "./api-key-hash.js";
import type { ApiKeyEntry } from "./config.js";
import type { Principal } from "./principal.js";

/** Longer than any key `longrun auth new-key` makes, by far: a bigger one is refused unhashed. */
const MAX_KEY_LENGTH = 1024;

/** API keys by their SHA-256: a key is hashed once per call and looked up; keys are never held in clear. */
export class ApiKeys {
  private readonly byHash = new Map<string, Principal>();

  constructor(entries: readonly ApiKeyEntry[]) {
    for (const entry of entries) {
      this.byHash.set(entry.sha256, Object.freeze({ id: entry.principal, via: "api-key" as const, scopes: undefined }));
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The principal of `key`, or UNAUTHENTICATED API_KEY_INVALID. */
  principalOf(key: string): Principal {
    const principal = key.length <= MAX_KEY_LENGTH ? this.byHash.get(hashApiKey(key)) : undefined;
    if (!principal) throw unauthenticated(Reason.API_KEY_INVALID);
    return principal;
  }
}
