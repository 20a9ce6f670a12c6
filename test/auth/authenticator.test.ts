import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiKeys } from "../../src/auth/api-keys.js";
import { hashApiKey } from "../../src/auth/api-key-hash.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import { JwtVerifier } from "../../src/auth/jwt.js";
import type { Credentials } from "../../src/auth/credentials.js";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { testIssuer, unsignedToken } from "../support/jwt.js";

const none: Credentials = { apiKey: undefined, authorization: undefined, certificate: undefined };

/** The error a call throws or rejects with (authentication answers at once when it can). */
async function rejects(call: () => unknown, code: Code, reason: string): Promise<RpcError> {
  const err = await Promise.resolve().then(call).then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RpcError, String(err));
  assert.equal(err.code, code);
  assert.equal(err.reason, reason);
  return err;
}

test("API keys: a known key names its principal; an unknown, empty or huge one is API_KEY_INVALID; none is CREDENTIALS_MISSING", async () => {
  const keys = new ApiKeys([{ sha256: hashApiKey("lr_secret"), principal: "serviceAccount:ci@example" }]);
  const auth = new Authenticator({ apiKeys: keys });
  const principal = await auth.authenticate({ ...none, apiKey: "lr_secret" });
  assert.deepEqual({ ...principal }, { id: "serviceAccount:ci@example", via: "api-key", scopes: undefined });
  for (const bad of ["lr_secreT", "", "x".repeat(5000)]) {
    const err = await rejects(async () => auth.authenticate({ ...none, apiKey: bad }), Code.UNAUTHENTICATED, "API_KEY_INVALID");
    assert.ok(!err.message.includes("lr_secre"), "the message never repeats a key");
  }
  await rejects(async () => auth.authenticate(none), Code.UNAUTHENTICATED, "CREDENTIALS_MISSING");
});

test("client certificates name principals certificate:<CN> when no key or token is sent", async () => {
  const auth = new Authenticator({});
  const principal = await auth.authenticate({ ...none, certificate: { commonName: "worker-1", fingerprint256: "AA" } });
  assert.equal(principal.id, "certificate:worker-1");
  assert.equal(principal.via, "certificate");
});

test("JWTs: a good token names user:<sub> with its scopes; every bad one is refused with a short reason only", async () => {
  const issuer = await testIssuer();
  const verifier = new JwtVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience });
  const auth = new Authenticator({ jwt: verifier });
  const bearer = (token: string): Credentials => ({ ...none, authorization: `Bearer ${token}` });

  const good = await auth.authenticate(bearer(await issuer.token({ scope: "a b", scp: ["c"] })));
  assert.equal(good.id, "user:alice");
  assert.deepEqual([...(good.scopes ?? [])].sort(), ["a", "b", "c"]);
  // The scheme is case-insensitive (RFC 7235).
  assert.equal((await auth.authenticate({ ...none, authorization: `bearer ${await issuer.token()}` })).id, "user:alice");

  const cases: [string, string, string][] = [
    ["expired", await issuer.token({}, { expiresInSeconds: -120 }), "ACCESS_TOKEN_EXPIRED"],
    ["wrong audience", await issuer.token({ aud: "someone-else" }), "ACCESS_TOKEN_INVALID"],
    ["wrong issuer", await issuer.token({ iss: "https://evil.example" }), "ACCESS_TOKEN_INVALID"],
    ["alg none", unsignedToken({ sub: "alice", iss: issuer.issuer, aud: issuer.audience, exp: Math.floor(Date.now() / 1000) + 600 }), "ACCESS_TOKEN_INVALID"],
    ["unknown kid", await issuer.token({}, { kid: "key-404" }), "ACCESS_TOKEN_INVALID"],
    ["forged signature", await issuer.forged(), "ACCESS_TOKEN_INVALID"],
    ["not valid yet", await issuer.token({}, { notBeforeSeconds: 600 }), "ACCESS_TOKEN_INVALID"],
    ["no sub", await issuer.token({ sub: undefined }), "ACCESS_TOKEN_INVALID"],
    ["garbage", "not.a.jwt", "ACCESS_TOKEN_INVALID"],
  ];
  for (const [label, token, reason] of cases) {
    const err = await rejects(async () => auth.authenticate(bearer(token)), Code.UNAUTHENTICATED, reason);
    assert.ok(!err.message.includes(token.slice(0, 20)), `${label}: the message never repeats the token`);
    assert.deepEqual(err.metadata, {}, `${label}: nothing beyond the reason`);
  }
  await rejects(async () => auth.authenticate({ ...none, authorization: "Basic YWxpY2U6cHc=" }), Code.UNAUTHENTICATED, "ACCESS_TOKEN_INVALID");
  // A bad token is refused even when a good key comes with it.
  const withKey = new Authenticator({ jwt: verifier, apiKeys: new ApiKeys([{ sha256: hashApiKey("k"), principal: "user:bob" }]) });
  await rejects(async () => withKey.authenticate({ apiKey: "k", authorization: "Bearer nope", certificate: undefined }), Code.UNAUTHENTICATED, "ACCESS_TOKEN_INVALID");
});

test("JWTs: skew within the tolerance is accepted; a cached token still expires at its exp", async () => {
  const issuer = await testIssuer();
  let now = Date.now();
  const verifier = new JwtVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience, clockToleranceSeconds: 30, now: () => now });
  const token = await issuer.token({}, { expiresInSeconds: 60 });
  assert.equal((await verifier.verify(token)).id, "user:alice");
  now += 80_000; // 20 s past exp, within the 30 s tolerance: served from the cache
  assert.equal((await verifier.verify(token)).id, "user:alice");
  now += 20_000; // 40 s past exp
  await rejects(async () => verifier.verify(token), Code.UNAUTHENTICATED, "ACCESS_TOKEN_EXPIRED");
  await rejects(async () => verifier.verify(token), Code.UNAUTHENTICATED, "ACCESS_TOKEN_EXPIRED");
});

test("JWTs: principalClaim and principalPrefix name the principal", async () => {
  const issuer = await testIssuer();
  const verifier = new JwtVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: [issuer.audience, "other"], principalClaim: "email", principalPrefix: "serviceAccount:" });
  assert.equal((await verifier.verify(await issuer.token({ email: "ci@example" }))).id, "serviceAccount:ci@example");
  await rejects(async () => verifier.verify(await issuer.token()), Code.UNAUTHENTICATED, "ACCESS_TOKEN_INVALID");
});

test("JWTs: a JWKS URL is fetched, refetched for a new kid (key rotation), and UNAVAILABLE when it cannot be reached", async () => {
  const { createServer } = await import("node:http");
  const first = await testIssuer();
  const second = await testIssuer();
  const rotated = { keys: [{ ...second.jwks.keys[0]!, kid: "key-2" }] };
  let served = first.jwks;
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(served));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const url = new URL(`http://127.0.0.1:${port}/jwks.json`);
    const verifier = new JwtVerifier({ jwks: url, issuer: first.issuer, audience: first.audience, jwksRefreshCooldownMs: 0 });
    assert.equal((await verifier.verify(await first.token())).id, "user:alice");
    assert.equal((await verifier.verify(await first.token({ sub: "bob" }))).id, "user:bob");
    assert.equal(fetches, 1, "keys are cached between tokens");
    served = rotated;
    // A token under the new kid makes the verifier fetch the set again and find it.
    assert.equal((await verifier.verify(await second.token({ sub: "carol" }, { kid: "key-2" }))).id, "user:carol");
    assert.equal(fetches, 2);
    // The old key is gone from the set: a new token under it no longer verifies.
    await rejects(async () => verifier.verify(await first.token({ sub: "dave" })), Code.UNAUTHENTICATED, "ACCESS_TOKEN_INVALID");
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const unreachable = new JwtVerifier({ jwks: new URL(`http://127.0.0.1:${port}/jwks.json`), issuer: first.issuer, audience: first.audience });
  await rejects(async () => unreachable.verify(await first.token()), Code.UNAVAILABLE, "JWKS_UNAVAILABLE");
});

test("JWTs: a principal claim that is not a printable name of sane length is refused", async () => {
  const issuer = await testIssuer();
  const verifier = new JwtVerifier({ jwks: issuer.jwks, issuer: issuer.issuer, audience: issuer.audience });
  for (const sub of ["a".repeat(513), "alice\u0000", "ali ce", "\u202eecila"]) {
    await rejects(async () => verifier.verify(await issuer.token({ sub })), Code.UNAUTHENTICATED, "ACCESS_TOKEN_INVALID");
  }
});
