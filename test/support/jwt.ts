import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWTPayload } from "jose";

/** A signing key and its JWKS, to mint the tokens an identity provider would. */
export interface TestIssuer {
  issuer: string;
  audience: string;
  jwks: JSONWebKeySet;
  /** A signed token; `claims` override the defaults (sub alice, an hour to live), `header` the protected header. */
  token(claims?: JWTPayload, options?: { kid?: string; expiresInSeconds?: number; notBeforeSeconds?: number }): Promise<string>;
  /** A token signed by a key the JWKS does not hold, under the JWKS's own kid (a forgery). */
  forged(claims?: JWTPayload): Promise<string>;
}

export async function testIssuer(options: { issuer?: string; audience?: string; alg?: "RS256" | "ES256" } = {}): Promise<TestIssuer> {
  const alg = options.alg ?? "ES256";
  const issuer = options.issuer ?? "https://issuer.example";
  const audience = options.audience ?? "longrun";
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const stranger = await generateKeyPair(alg, { extractable: true });
  const kid = "key-1";
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const sign = async (key: CryptoKey, claims: JWTPayload, o: { kid?: string; expiresInSeconds?: number; notBeforeSeconds?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ sub: "alice", ...claims })
      .setProtectedHeader({ alg, kid: o.kid ?? kid, typ: "JWT" })
      .setIssuer(typeof claims.iss === "string" ? claims.iss : issuer)
      .setAudience(claims.aud ?? audience)
      .setIssuedAt(now)
      .setExpirationTime(now + (o.expiresInSeconds ?? 3600));
    if (o.notBeforeSeconds !== undefined) jwt = jwt.setNotBefore(now + o.notBeforeSeconds);
    return jwt.sign(key);
  };
  return {
    issuer,
    audience,
    jwks: { keys: [jwk] },
    token: (claims = {}, o) => sign(privateKey, claims, o),
    forged: (claims = {}) => sign(stranger.privateKey, claims),
  };
}

/** An unsigned token (`alg: none`), which no verifier may accept. */
export function unsignedToken(claims: JWTPayload): string {
  const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}

/** A test issuer whose JWKS is also written to a file of its own, as an auth file's `jwt.jwks` names it. */
export async function testIssuerWithJwksFile(options: Parameters<typeof testIssuer>[0] = {}): Promise<TestIssuer & { jwksPath: string }> {
  const issuer = await testIssuer(options);
  const jwksPath = join(mkdtempSync(join(tmpdir(), "longrun-jwks-")), "jwks.json");
  writeFileSync(jwksPath, JSON.stringify(issuer.jwks));
  return { ...issuer, jwksPath };
}
