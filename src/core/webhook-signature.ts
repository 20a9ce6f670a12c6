import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The `longrun-signature` header of a webhook notification: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the
 * HMAC keyed with the shared secret over `"<t>.<body>"` (the exact bytes of the request body). Shared by
 * the webhook sink (which signs) and longrun/client (whose users verify).
 */
export const WEBHOOK_SIGNATURE_HEADER = "longrun-signature";

/** How far a signature's `t` may be from the verifier's clock before it is refused. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

/** The header value signing `body` at `nowSeconds` (whole Unix seconds) with `secret`. */
export function signWebhookPayload(secret: string, body: string | Uint8Array, nowSeconds: number): string {
  const t = Math.floor(nowSeconds);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

export interface VerifyWebhookSignatureOptions {
  /** The `longrun-signature` header as received (undefined or empty when absent: not verified). */
  header: string | null | undefined;
  /** The raw request body, exactly as received: not re-serialized JSON. */
  body: string | Uint8Array;
  /** The shared secret; several while rotating (the old and the new one): any of them may have signed. */
  secret: string | readonly string[];
  /** How far `t` may be from `now`, either way. @default 300 s */
  toleranceSeconds?: number;
  /** The verifier's clock. @default new Date() */
  now?: Date;
}

/**
 * Whether `header` is a valid signature of `body`: well formed (`t=<digits>` and one or more
 * `v1=<64 hex digits>`, comma separated, other keys ignored), `t` within `toleranceSeconds` of `now`
 * (older ones may be replays), and some `v1` the HMAC-SHA256 of `"<t>.<body>"` under some secret
 * (constant-time comparison). A sender rotating its secret sends one `v1` per secret.
 */
export function verifyWebhookSignature(options: VerifyWebhookSignatureOptions): boolean {
  const parsed = parseSignatureHeader(options.header);
  if (parsed === undefined) return false;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (!(Math.abs(nowSeconds - parsed.t) <= tolerance)) return false;
  const secrets = typeof options.secret === "string" ? [options.secret] : options.secret;
  let valid = false;
  for (const secret of secrets) {
    if (secret === "") continue;
    const expected = Buffer.from(hmacHex(secret, parsed.t, options.body), "hex");
    // Every pair is compared (no early exit), so the time taken does not tell which one matched.
    for (const candidate of parsed.v1) valid = timingSafeEqual(expected, candidate) || valid;
  }
  return valid;
}

function hmacHex(secret: string, t: number, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex");
}

function parseSignatureHeader(header: string | null | undefined): { t: number; v1: Buffer[] } | undefined {
  if (!header) return undefined;
  let t: number | undefined;
  const v1: Buffer[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
      v1.push(Buffer.from(value, "hex"));
    }
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}
