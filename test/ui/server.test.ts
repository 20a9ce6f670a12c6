// The dashboard's server side without a browser: what /ui answers and with which headers, --no-ui and
// --ui-path, the escaping of what the page is written with, and the live stream (`…:watch`): its auth,
// its tenants, its arguments.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { hashApiKey, type AuthConfig } from "../../src/index.js";
import { instantScopedRun } from "../support/scoped-run.js";
import { escapeHtml } from "../../src/ui/html.js";
import { CONTENT_SECURITY_POLICY, checkUiPath } from "../../src/ui/dashboard.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Reads a server-sent event stream until `until` holds of what came, or `ms` pass; then closes it. */
async function readEvents(res: Response, until: (events: any[]) => boolean, ms = 5000): Promise<any[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: any[] = [];
  let text = "";
  const timer = setTimeout(() => void reader.cancel(), ms);
  try {
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      let end;
      while ((end = text.indexOf("\n\n")) !== -1) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block);
        if (/^event: changes$/m.test(block) && data) events.push(JSON.parse(data[1]!));
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return events;
}

describe("escapeHtml", () => {
  it("escapes what could end a text or an attribute, and nothing else", () => {
    assert.equal(escapeHtml(`<img src=x onerror="a('b')">&\``), "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;&#96;");
    assert.equal(escapeHtml("operations/abc-_1 é"), "operations/abc-_1 é");
  });
});

describe("the dashboard's pages", () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  it("serves the page at /ui, /ui/ and /ui/operations/…, with a strict CSP and no framing", async () => {
    for (const path of ["/ui", "/ui/", "/ui/operations/operations/abc"]) {
      const res = await fetch(`${t.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(res.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
      assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
      assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("cache-control"), "no-store");
      const html = await res.text();
      assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, "no inline script");
      assert.doesNotMatch(html, /style=/, "no inline style");
      const config = JSON.parse(/name="longrun-config" content="([^"]*)"/.exec(html)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
      assert.equal(config.listPath, "/v1/operations");
      assert.equal(config.auth, false);
      assert.deepEqual(config.methods, [{ name: "longrun.demo.v1.Demo.Sleep", metadataType: "longrun.demo.v1.SleepMetadata" }]);
    }
  });

  it("serves its modules and style; anything else under /ui is 404, and only GET and HEAD are answered", async () => {
    const js = await fetch(`${t.url}/ui/static/app.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal((await fetch(`${t.url}/ui/static/style.css`)).headers.get("content-type"), "text/css; charset=utf-8");
    for (const path of ["/ui/static/constructor", "/ui/static/../server.ts", "/ui/nothing"]) {
      assert.equal((await fetch(`${t.url}${path}`)).status, 404, path);
    }
    const head = await fetch(`${t.url}/ui/`, { method: "HEAD" });
    assert.equal(head.status, 200);
    const post = await fetch(`${t.url}/ui/`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });

  it("the Host allow-list holds for the pages too", async () => {
    const { request } = await import("node:http");
    const url = new URL(t.url);
    const status = await new Promise<number>((resolve, reject) =>
      request({ host: url.hostname, port: url.port, path: "/ui/", headers: { host: "evil.example" } }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
        .on("error", reject)
        .end(),
    );
    assert.equal(status, 421);
  });
});

describe("--no-ui and --ui-path", () => {
  it("ui: false serves neither the pages nor the watch", async () => {
    const t = await startTestServer({ ui: false });
    try {
      assert.equal(t.server.uiUrl, undefined);
      assert.equal((await fetch(`${t.url}/ui/`)).status, 404);
      assert.equal((await fetch(`${t.url}/v1/operations:watch`)).status, 404);
    } finally {
      await t.close();
    }
  });

  it("ui: { path } moves it", async () => {
    const t = await startTestServer({ ui: { path: "/ops/dash" } });
    try {
      assert.equal(t.server.uiUrl, `${t.url}/ops/dash/`);
      const res = await fetch(`${t.url}/ops/dash/`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /src="\/ops\/dash\/static\/app\.js"/);
      assert.equal((await fetch(`${t.url}/ui/`)).status, 404);
    } finally {
      await t.close();
    }
  });

  it("refuses a path that is not / and plain segments", () => {
    for (const bad of ["ui", "/", "/ui/", "/u i", "/ui/<x>", "/v1/../x"]) assert.throws(() => checkUiPath(bad), /ui path/, bad);
    assert.equal(checkUiPath("/a/b-c.d_~"), "/a/b-c.d_~");
    for (const hiding of ["/v1", "/v1/ui"]) assert.throws(() => checkUiPath(hiding, "/v1"), /hide the REST API/, hiding);
  });
});

const KEY_A = "lr_ui_key_a";
const KEY_B = "lr_ui_key_b";
const A = "projects/a/locations/x";
const B = "projects/b/locations/x";

describe("the live stream (GET …/operations:watch) with auth on and tenants", () => {
  let t: TestServer;
  before(async () => {
    const auth: AuthConfig = {
      apiKeys: [
        { sha256: hashApiKey(KEY_A), principal: "serviceAccount:a@example" },
        { sha256: hashApiKey(KEY_B), principal: "serviceAccount:b@example" },
      ],
      bindings: [
        { role: "roles/longrun.editor", members: ["serviceAccount:a@example"], resource: "projects/a" },
        { role: "roles/longrun.editor", members: ["serviceAccount:b@example"], resource: "projects/b" },
      ],
    };
    t = await startTestServer({ methods: [instantScopedRun], names: { parent: "projects/*/locations/*" }, auth, audit: () => {} });
  });
  after(async () => t.close());

  const watch = (parent: string, key?: string, query = ""): Promise<Response> =>
    fetch(`${t.url}/v1/${parent}/operations:watch${query}`, { headers: key === undefined ? {} : { "x-goog-api-key": key } });
  const start = async (parent: string, key: string): Promise<string> => {
    const res = await fetch(`${t.url}/v1/${parent}:run`, { method: "POST", headers: { "content-type": "application/json", "x-goog-api-key": key }, body: "{}" });
    assert.equal(res.status, 200);
    return ((await res.json()) as { name: string }).name;
  };

  it("needs the credentials and the permission ListOperations needs", async () => {
    assert.equal((await watch(A)).status, 401);
    const denied = await watch(B, KEY_A);
    assert.equal(denied.status, 403);
    assert.equal(((await denied.json()) as any).error.status, "PERMISSION_DENIED");
    const bad = await watch(A, KEY_A, "?filter=done%3Dtrue");
    assert.equal(bad.status, 400);
    // The page itself is static and holds nothing: it loads without credentials, and asks for them.
    const page = await fetch(`${t.url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /&quot;auth&quot;:true/);
  });

  it("tells a tenant of its own operations only", async () => {
    const res = await watch(A, KEY_A);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const opB = await start(B, KEY_B);
    const opA = await start(A, KEY_A);
    const events = await readEvents(res, (events) => events.some((e) => e.changed.includes(opA) && events.length >= 2));
    const heard = new Set(events.flatMap((e) => e.changed));
    assert.ok(heard.has(opA), JSON.stringify(events));
    assert.ok(!heard.has(opB), "B's operation is not A's to hear of");
    assert.ok(events.every((e) => e.deleted.length === 0 && e.resync === false));
  });
});
