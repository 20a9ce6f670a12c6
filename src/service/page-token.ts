import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { DEFAULTS } from "../core/defaults.js";
import { Reason, invalidArgument } from "../core/errors.js";
import type { ListCursor } from "../store/store.js";

export interface PageTokenOptions {
  /** HMAC key. Tokens signed with another key are refused; @default random per process (tokens die on restart). */
  secret?: string | Uint8Array;
  /** @default DEFAULTS.pageTokenTtlMs (3 days, AIP-158's rule of thumb) */
  ttlMs?: number;
}

interface Payload {
  /** format version: 2 hashes the request unambiguously (1 joined name and filter with a NUL byte) */
  v: 2;
  /** cursor: create time, id */
  t: number;
  i: string;
  /** the request the token belongs to: hash of (name, filter, and the resource a list is restricted to) */
  q: string;
  /** expiry, ms since epoch */
  e: number;
}

const MAC_BYTES = 16;

/**
 * The list a page token belongs to: its name and filter, and the resource it was restricted to when the
 * caller may list only that resource's operations (undefined for a list of everything under the name).
 */
export interface PageTokenBinding {
  name: string;
  filter: string;
  resource?: string | undefined;
}

/**
 * Opaque, tamper-evident page tokens (AIP-158): the keyset cursor and a hash of the request it was issued
 * for, signed with HMAC-SHA256. A token that was modified, issued for another name, filter or restriction,
 * signed with another secret, or expired is refused with INVALID_ARGUMENT.
 */
export class PageTokens {
  private readonly secret: Uint8Array;
  private readonly ttlMs: number;

  constructor(options: PageTokenOptions = {}) {
    this.secret = typeof options.secret === "string" ? Buffer.from(options.secret) : (options.secret ?? randomBytes(32));
    this.ttlMs = options.ttlMs ?? DEFAULTS.pageTokenTtlMs.value;
  }

  issue(cursor: ListCursor, request: PageTokenBinding, now: number): string {
    const payload: Payload = { v: 2, t: cursor.createTime, i: cursor.id, q: requestHash(request), e: now + this.ttlMs };
    const body = Buffer.from(JSON.stringify(payload));
    return `${body.toString("base64url")}.${this.mac(body).toString("base64url")}`;
  }

  /** The cursor in `token`, or INVALID_ARGUMENT. */
  read(token: string, request: PageTokenBinding, now: number): ListCursor {
    const invalid = (why: string) => invalidArgument("page_token", why, Reason.INVALID_PAGE_TOKEN);
    const [bodyPart, macPart, extra] = token.split(".");
    if (!bodyPart || !macPart || extra !== undefined) throw invalid("is not a page token issued by this server");
    const body = strictBase64url(bodyPart);
    const mac = strictBase64url(macPart);
    if (!body || !mac || mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(body))) {
      throw invalid("is not a page token issued by this server");
    }
    let payload: Payload;
    try {
      payload = JSON.parse(body.toString("utf8")) as Payload;
    } catch {
      throw invalid("is not a page token issued by this server");
    }
    if (payload.v !== 2 || typeof payload.t !== "number" || typeof payload.i !== "string") {
      throw invalid("is not a page token issued by this server");
    }
    if (payload.q !== requestHash(request)) {
      throw invalid("was issued for a request with another name or filter (or restricted to another resource); start again without a page token");
    }
    if (payload.e <= now) throw invalid("has expired; start again without a page token");
    return { createTime: payload.t, id: payload.i };
  }

  private mac(body: Uint8Array): Buffer {
    return createHmac("sha256", this.secret).update(body).digest().subarray(0, MAC_BYTES);
  }
}

/** (name, filter, restriction) as JSON: one encoding per request, so no two requests share a hash. */
function requestHash(request: PageTokenBinding): string {
  return createHash("sha256")
    .update(JSON.stringify([request.name, request.filter, request.resource ?? null]))
    .digest("base64url")
    .slice(0, 16);
}

/**
 * The bytes of a base64url text that only they encode to: Node's decoder ignores the spare low bits of the
 * last character and skips stray characters, which would give one token several spellings.
 */
function strictBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, "base64url");
  return bytes.toString("base64url") === text ? bytes : undefined;
}
