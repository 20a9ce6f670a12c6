// What REST calls carry besides their request, and the WWW-Authenticate challenge of a 401.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startRestServer, type RestServer } from "../../src/transport/rest/index.js";
import { DOMAIN, endpoints, get, registry } from "./recording.js";

let server: RestServer;
before(async () => {
  server = await startRestServer({ endpoints, registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, log: () => {} });
});
after(() => server.close());

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
