// What keeps web pages out of the REST port (docs/security.md, "Browsers"): JSON bodies only (415), the
// Host allow-list (421), cross-origin protection (403), CORS for named origins only, nosniff everywhere.
// Real node:http over loopback; node:http (not fetch) so that Host, Origin and Sec-Fetch-Site can be set.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Reason } from "../../src/core/errors.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: body === undefined ? headers : { "content-length": String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function assertStatus(r: Reply, httpStatus: number, status: string, reason: string): void {
  assert.equal(r.status, httpStatus, r.text);
  assert.match(String(r.headers["content-type"]), /^application\/json/);
  assert.equal(r.json.error.code, httpStatus);
  assert.equal(r.json.error.status, status);
  const info = r.json.error.details.find((d: any) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  assert.equal(info?.reason, reason, r.text);
  assert.equal(r.headers["x-content-type-options"], "nosniff");
}

const JSON_TYPE = { "content-type": "application/json" };

async function listed(t: TestServer): Promise<unknown[]> {
  const r = await send(t.url, "GET", "/v1/operations");
  assert.equal(r.status, 200, r.text);
  return (r.json.operations as unknown[] | undefined) ?? [];
}

describe("REST against browser-borne requests", () => {
  describe("bodies only as JSON", () => {
    let t: TestServer;
    before(async () => (t = await startTestServer()));
    after(async () => t.close());

    for (const [type, body] of [
      ["text/plain", '{"duration":"30s"}'],
      ["text/plain;charset=UTF-8", '{"duration":"30s"}'],
      ["application/x-www-form-urlencoded", "duration=30s"],
      ["multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="duration"\r\n\r\n30s\r\n--x--\r\n'],
      ["application/xml", "<duration>30s</duration>"],
      ["application/json; charset=latin1", '{"duration":"30s"}'],
    ] as const) {
      it(`refuses ${type} with 415 and starts nothing`, async () => {
        const r = await send(t.url, "POST", "/v1/demo:sleep", { "content-type": type }, body);
        assertStatus(r, 415, "INVALID_ARGUMENT", Reason.UNSUPPORTED_MEDIA_TYPE);
        assert.deepEqual(await listed(t), []);
      });
    }

    it("refuses a body without a Content-Type, and a non-JSON type on an empty POST", async () => {
      let r = await send(t.url, "POST", "/v1/demo:sleep", {}, '{"duration":"30s"}');
      assertStatus(r, 415, "INVALID_ARGUMENT", Reason.UNSUPPORTED_MEDIA_TYPE);
      r = await send(t.url, "POST", "/v1/demo:sleep", { "content-type": "text/plain" }, "");
      assertStatus(r, 415, "INVALID_ARGUMENT", Reason.UNSUPPORTED_MEDIA_TYPE);
      assert.deepEqual(await listed(t), []);
    });

    it("takes application/json, with a charset, in any case, and application/*+json", async () => {
      for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON;Charset=\"UTF-8\"", "application/merge-patch+json"]) {
        const r = await send(t.url, "POST", "/v1/demo:sleep", { "content-type": type }, '{"duration":"0s"}');
        assert.equal(r.status, 200, `${type}: ${r.text}`);
        assert.equal(r.headers["x-content-type-options"], "nosniff");
      }
      assert.equal((await listed(t)).length, 4);
    });

    it("takes an empty POST :cancel with no Content-Type (curl -X POST)", async () => {
      const started = await send(t.url, "POST", "/v1/demo:sleep", JSON_TYPE, '{"duration":"30s"}');
      const r = await send(t.url, "POST", `/v1/${started.json.name}:cancel`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
    });
  });

  describe("Host allow-list", () => {
    let t: TestServer;
    before(async () => (t = await startTestServer()));
    after(async () => t.close());
    const port = (): string => new URL(t.url).port;

    it("refuses a foreign Host with 421 before routing, and creates nothing", async () => {
      let r = await send(t.url, "POST", "/v1/demo:sleep", { ...JSON_TYPE, host: `evil.example:${port()}` }, '{"duration":"30s"}');
      assertStatus(r, 421, "INVALID_ARGUMENT", Reason.HOST_NOT_ALLOWED);
      assert.equal(r.json.error.details[0].metadata.host, `evil.example:${port()}`);
      // Not even routed: an unknown path is refused the same way, not 404.
      r = await send(t.url, "GET", "/no/such/path", { host: "evil.example" });
      assertStatus(r, 421, "INVALID_ARGUMENT", Reason.HOST_NOT_ALLOWED);
      assert.deepEqual(await listed(t), []);
    });

    it("answers a loopback server's own names", async () => {
      for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`, `[::1]:${port()}`, "LOCALHOST", "localhost."]) {
        const r = await send(t.url, "GET", "/v1/operations", { host });
        assert.equal(r.status, 200, `${host}: ${r.text}`);
      }
    });

    it("answers configured hosts, and any host with *", async () => {
      const extra = await startTestServer({ allowedHosts: ["api.example", ".corp.example", "pinned.example:1"] });
      const any = await startTestServer({ allowedHosts: ["*"] });
      try {
        for (const host of ["api.example", "api.example:8443", "corp.example", "a.b.corp.example:9", "pinned.example:1", "localhost"]) {
          assert.equal((await send(extra.url, "GET", "/v1/operations", { host })).status, 200, host);
        }
        for (const host of ["evil.example", "xcorp.example", "pinned.example:2", "api.example.evil"]) {
          assertStatus(await send(extra.url, "GET", "/v1/operations", { host }), 421, "INVALID_ARGUMENT", Reason.HOST_NOT_ALLOWED);
        }
        assert.equal((await send(any.url, "GET", "/v1/operations", { host: "evil.example" })).status, 200);
      } finally {
        await extra.close();
        await any.close();
      }
    });

    it("refuses a malformed allowed host or CORS origin at start", async () => {
      await assert.rejects(startTestServer({ allowedHosts: ["http://x/"] }), /allowed host/);
      await assert.rejects(startTestServer({ corsOrigins: ["app.example"] }), /CORS origin/);
      await assert.rejects(startTestServer({ corsOrigins: ["https://app.example/path"] }), /CORS origin/);
    });
  });

  describe("CORS off (the default)", () => {
    let t: TestServer;
    before(async () => (t = await startTestServer()));
    after(async () => t.close());

    it("sends no Access-Control-Allow-* header, even to an Origin", async () => {
      const r = await send(t.url, "GET", "/v1/operations", { origin: "https://app.example" });
      assert.equal(r.status, 200);
      assert.equal(Object.keys(r.headers).filter((h) => h.startsWith("access-control-")).length, 0);
    });

    it("refuses a preflight with 403", async () => {
      const r = await send(t.url, "OPTIONS", "/v1/demo:sleep", { origin: "https://app.example", "access-control-request-method": "POST" });
      assertStatus(r, 403, "PERMISSION_DENIED", Reason.ORIGIN_NOT_ALLOWED);
      assert.equal(r.headers["access-control-allow-origin"], undefined);
    });

    it("refuses a cross-origin POST (even an empty one, which needs no Content-Type), and starts nothing", async () => {
      const foreign: Record<string, string>[] = [{ origin: "http://evil.example" }, { origin: "null" }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site", origin: "http://a.localhost" }];
      for (const headers of foreign) {
        const r = await send(t.url, "POST", "/v1/demo:sleep", headers);
        assertStatus(r, 403, "PERMISSION_DENIED", Reason.ORIGIN_NOT_ALLOWED);
      }
      assert.deepEqual(await listed(t), []);
      // A same-origin page, and a browser's own navigation, get through.
      const port = new URL(t.url).port;
      assert.equal((await send(t.url, "POST", "/v1/demo:sleep", { origin: `http://127.0.0.1:${port}` })).status, 200);
      assert.equal((await send(t.url, "POST", "/v1/demo:sleep", { "sec-fetch-site": "same-origin", origin: "http://x" })).status, 200);
      assert.equal((await send(t.url, "POST", "/v1/demo:sleep", { "sec-fetch-site": "none" })).status, 200);
    });
  });

  describe("CORS for named origins", () => {
    let t: TestServer;
    const APP = "https://app.example";
    before(async () => (t = await startTestServer({ corsOrigins: [APP] })));
    after(async () => t.close());

    it("answers a preflight from an allowed origin with 204 and the path's methods", async () => {
      const r = await send(t.url, "OPTIONS", "/v1/operations/abc", {
        origin: APP,
        "access-control-request-method": "DELETE",
        "access-control-request-headers": "content-type, x-goog-api-key",
      });
      assert.equal(r.status, 204, r.text);
      assert.equal(r.headers["access-control-allow-origin"], APP);
      assert.deepEqual(String(r.headers["access-control-allow-methods"]).split(", ").sort(), ["DELETE", "GET"]);
      const allowed = String(r.headers["access-control-allow-headers"]).split(", ");
      for (const h of ["content-type", "authorization", "x-goog-api-key", "x-goog-request-params", "x-goog-api-client"]) assert.ok(allowed.includes(h), h);
      assert.equal(r.headers["access-control-max-age"], "600");
      assert.equal(r.headers["vary"], "Origin");
      assert.equal(r.headers["access-control-allow-credentials"], undefined);
      assert.equal(r.headers["x-content-type-options"], "nosniff");
      assert.equal(r.text, "");
    });

    it("answers a preflight for an unbound path with 404", async () => {
      const r = await send(t.url, "OPTIONS", "/v2/nothing", { origin: APP, "access-control-request-method": "GET" });
      assertStatus(r, 404, "NOT_FOUND", Reason.UNKNOWN_PATH);
    });

    it("lets the allowed origin call, with ACAO and Vary; another origin gets neither, and no POST", async () => {
      let r = await send(t.url, "POST", "/v1/demo:sleep", { ...JSON_TYPE, origin: APP, "sec-fetch-site": "cross-site" }, '{"duration":"0s"}');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers["access-control-allow-origin"], APP);
      assert.equal(r.headers["vary"], "Origin");
      assert.match(String(r.headers["access-control-expose-headers"]), /www-authenticate/);

      r = await send(t.url, "GET", "/v1/operations", { origin: "https://other.example" });
      assert.equal(r.status, 200);
      assert.equal(r.headers["access-control-allow-origin"], undefined);
      assert.equal(r.headers["vary"], "Origin");

      r = await send(t.url, "POST", "/v1/demo:sleep", { ...JSON_TYPE, origin: "https://other.example" }, '{"duration":"0s"}');
      assertStatus(r, 403, "PERMISSION_DENIED", Reason.ORIGIN_NOT_ALLOWED);
      assert.equal(r.headers["access-control-allow-origin"], undefined);

      r = await send(t.url, "OPTIONS", "/v1/demo:sleep", { origin: "https://other.example", "access-control-request-method": "POST" });
      assertStatus(r, 403, "PERMISSION_DENIED", Reason.ORIGIN_NOT_ALLOWED);
    });

    it("puts ACAO on errors too, so the page can read them", async () => {
      const r = await send(t.url, "GET", "/v1/operations/nope", { origin: APP });
      assertStatus(r, 404, "NOT_FOUND", Reason.OPERATION_NOT_FOUND);
      assert.equal(r.headers["access-control-allow-origin"], APP);
    });
  });
});
