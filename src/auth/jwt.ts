import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { Code } from "../core/code.js";
import { Reason, RpcError, unauthenticated } from "../core/errors.js";
import type { Principal } from "./principal.js";

/** A JWT verifier's settings, with the key set already located (see loadAuthFile). */
export interface JwtVerifierOptions {
  /** The key set itself (a JWKS file's contents), or the https URL it is fetched from. */
  jwks: JSONWebKeySet | URL;
  issuer: string;
  audience: string | string[];
  /** @default "sub" */
  principalClaim?: string;
  /** @default "user:" */
  principalPrefix?: string;
  /** @default 30 */
  clockToleranceSeconds?: number;
  /** Verified tokens remembered, so a client reusing its token costs a map lookup, not a signature check. @default 10,000 */
  cacheSize?: number;
  /**
   * How long a verified token is remembered at most (its `exp` ends it sooner): a key taken out of the JWKS
   * stops working within this time. @default 5 minutes
   */
  cacheTtlMs?: number;
  /**
   * After a fetch of a JWKS URL, how long before a token with an unknown `kid` may fetch it again (keys
   * rotated in are picked up then; a flood of made-up kids cannot hammer the issuer). @default 30 s
   */
  jwksRefreshCooldownMs?: number;
  now?: () => number;
}

/**
 * Only signatures with public keys: a JWKS holds public keys, and `alg: none` or an HMAC algorithm
 * (which would treat a public key as a shared secret) must never verify.
 */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

const PRINCIPAL_NAME = /^[^\p{C}\s]{1,512}$/u;

/** Far larger than any real access token; refused before any parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;

interface Verified {
  principal: Principal;
  /** Until when (ms) the entry may be used: the token's exp (plus tolerance) or the cache TTL, whichever first. */
  until: number;
  /** The token's own exp (plus tolerance) in ms, to tell "expired" from "remembered too long". */
  expires: number;
}

/**
 * Verifies bearer JWTs against a JWKS (jose): signature, `iss`, `aud`, `exp` and `nbf` with a small clock
 * skew; names the principal from a claim and reads the OAuth scopes from `scope` or `scp`.
 */
export class JwtVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly cache = new Map<string, Verified>();
  private readonly principalClaim: string;
  private readonly principalPrefix: string;
  private readonly toleranceMs: number;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: JwtVerifierOptions) {
    this.keys = options.jwks instanceof URL ? createRemoteJWKSet(options.jwks, { cooldownDuration: options.jwksRefreshCooldownMs ?? 30_000 }) : createLocalJWKSet(options.jwks);
    this.principalClaim = options.principalClaim ?? "sub";
    this.principalPrefix = options.principalPrefix ?? "user:";
    this.toleranceMs = (options.clockToleranceSeconds ?? 30) * 1000;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The principal of a bearer token — at once for a token verified before, else a promise; UNAUTHENTICATED
   * (ACCESS_TOKEN_INVALID or _EXPIRED) if it does not verify, thrown or as the rejection.
   */
  verify(token: string): Principal | Promise<Principal> {
    const now = this.now();
    const known = this.cache.get(token);
    if (known) {
      if (now < known.until) return known.principal;
      this.cache.delete(token);
      if (now >= known.expires) throw unauthenticated(Reason.ACCESS_TOKEN_EXPIRED);
    }
    if (token.length > MAX_TOKEN_LENGTH) throw unauthenticated(Reason.ACCESS_TOKEN_INVALID);
    return this.verifyAnew(token, now);
  }

  private async verifyAnew(token: string, now: number): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.toleranceMs / 1000,
        algorithms: ALGORITHMS,
        requiredClaims: ["exp"],
        currentDate: new Date(now),
      }));
    } catch (err) {
      throw verificationError(err);
    }
    const subject = payload[this.principalClaim];
    // A principal is stored with the operations it starts: keep it to a printable line of sane length.
    if (typeof subject !== "string" || !PRINCIPAL_NAME.test(subject)) throw unauthenticated(Reason.ACCESS_TOKEN_INVALID);
    const principal: Principal = Object.freeze({ id: this.principalPrefix + subject, via: "jwt" as const, scopes: scopesOf(payload) });
    const expires = (payload.exp ?? 0) * 1000 + this.toleranceMs;
    this.remember(token, { principal, expires, until: Math.min(expires, now + this.cacheTtlMs) });
    return principal;
  }

  private remember(token: string, verified: Verified): void {
    if (this.cache.size >= this.cacheSize) {
      // Maps iterate in insertion order: the oldest entry goes first.
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, verified);
  }
}

/** OAuth scopes: `scope` is a space-separated string (RFC 8693); `scp` a list or string (Azure, Okta). */
function scopesOf(payload: JWTPayload): ReadonlySet<string> {
  const scopes = new Set<string>();
  for (const claim of [payload["scope"], payload["scp"]]) {
    if (typeof claim === "string") for (const s of claim.split(" ")) if (s !== "") scopes.add(s);
    if (Array.isArray(claim)) for (const s of claim) if (typeof s === "string" && s !== "") scopes.add(s);
  }
  return scopes;
}

function verificationError(err: unknown): RpcError {
  if (err instanceof errors.JWTExpired) return unauthenticated(Reason.ACCESS_TOKEN_EXPIRED);
  // The key set could not be fetched: the token may be fine, so the caller should retry, not re-authenticate.
  if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
    return new RpcError(Code.UNAVAILABLE, "The keys that verify access tokens cannot be fetched; retry later.", {
      reason: Reason.JWKS_UNAVAILABLE,
      cause: err,
    });
  }
  return unauthenticated(Reason.ACCESS_TOKEN_INVALID);
}
