// What REST calls carry besides their request: `?key=` and `?access_token=` as credentials (never as
// request fields), and the WWW-Authenticate challenge of a 401.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Message } from "@bufbuild/protobuf";
import { createRestHandler, startRestServer, type RestServer } from "../../src/transport/rest/index.js";
import { DOMAIN, endpoints, get, lastSeen, registry } from "./recording.js";

let server: RestServer;
before(async () => {
  server = await startRestServer({ endpoints, registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, log: () => {} });
});
after(() => server.close());

describe("REST credentials in the query", () => {
  it("takes ?key= as the API key and ?access_token= as a bearer token", async () => {
    let r = await get(`${server.url}/v1/operations/q?key=k-5&access_token=t-5`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastSeen().credentials, { apiKey: "k-5", authorization: "Bearer t-5", certificate: undefined });

    r = await get(`${server.url}/v1/operations/q?$key=k-6&$access_token=t%2B6`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastSeen().credentials, { apiKey: "k-6", authorization: "Bearer t+6", certificate: undefined });
  });

  it("prefers the headers to the query", async () => {
    const r = await get(`${server.url}/v1/operations/q?key=k-query&access_token=t-query`, {
      headers: { "x-goog-api-key": "k-header", authorization: "Bearer t-header" },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastSeen().credentials, { apiKey: "k-header", authorization: "Bearer t-header", certificate: undefined });
  });

  it("never binds them into the request, even where it has fields of those names", async () => {
    const r = await get(`${server.url}/v1/keyed/a?key=k-7&access_token=t-7&fields=f`);
    assert.equal(r.status, 200, r.text);
    // `fields` is still the request's field (a system parameter only where the request has none).
    assert.deepEqual(JSON.parse(r.text), { name: "keyed/a", fields: "f" });
    const { request, credentials } = lastSeen();
    assert.equal((request as Message & { key: string }).key, "");
    assert.equal((request as Message & { accessToken: string }).accessToken, "");
    assert.equal(credentials.apiKey, "k-7");
    assert.equal(credentials.authorization, "Bearer t-7");
  });

  it("repeats no key or token in an error", async () => {
    const secrets = ["SECRET-KEY-1", "SECRET-TOKEN-1", "SECRET-KEY-2"];
    for (const path of [
      "/v1/operations/missing?key=SECRET-KEY-1&access_token=SECRET-TOKEN-1",
      "/v1/operations/q?key=SECRET-KEY-1&nope=1&access_token=SECRET-TOKEN-1",
      "/v1/operations/q?key=SECRET-KEY-1&$key=SECRET-KEY-2",
      "/v1/operations/q?access_token=SECRET-TOKEN-1&access_token=SECRET-KEY-2",
      "/v1/nowhere?key=SECRET-KEY-1",
    ]) {
      const r = await get(`${server.url}${path}`);
      assert.ok(r.status >= 400, `${path}: ${r.status}`);
      for (const secret of secrets) assert.ok(!r.text.includes(secret), `${path} echoed a secret: ${r.text}`);
    }
  });

  it("refuses a key or token given twice, rather than pick one", async () => {
    for (const query of ["key=a&key=b", "key=a&$key=a", "access_token=a&$access_token=b"]) {
      const r = await get(`${server.url}/v1/operations/q?${query}`);
      assert.equal(r.status, 400, `${query}: ${r.text}`);
      assert.equal(JSON.parse(r.text).error.status, "INVALID_ARGUMENT");
    }
  });
});

describe("REST 401", () => {
  it("carries a Bearer WWW-Authenticate challenge (RFC 6750 §3)", async () => {
    const r = await get(`${server.url}/v1/operations/unauthenticated?key=wrong`);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.headers["www-authenticate"], 'Bearer realm="longrun"');
    const error = JSON.parse(r.text).error;
    assert.equal(error.status, "UNAUTHENTICATED");
    assert.equal(error.code, 401);
  });

  it("is sent with no other error", async () => {
    const r = await get(`${server.url}/v1/operations/missing`);
    assert.equal(r.status, 404, r.text);
    assert.equal(r.headers["www-authenticate"], undefined);
  });
});

describe("createRestHandler on a plain node:http server", () => {
  it("serves, with no certificate credential", async () => {
    const server = http.createServer(createRestHandler({ endpoints, registry, errorDomain: DOMAIN, log: () => {} }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await get(`http://127.0.0.1:${port}/v1/operations/plain?access_token=t-8`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(lastSeen().credentials, { apiKey: undefined, authorization: "Bearer t-8", certificate: undefined });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

