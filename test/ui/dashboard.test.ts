// The web dashboard (docs/dashboard.md) in a real headless Chromium (Debian's, driven by playwright-core)
// against an in-process server serving the demo: list and filter, paging, live progress, cancel and
// delete through the UI, escaping, cross-origin refusal, the counters by method and state, an operation's
// details and timeline. Writes the screenshots docs/dashboard.md shows.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { hashApiKey, type AuthConfig } from "../../src/index.js";
import { instantScopedRun } from "../support/scoped-run.js";
import { defineMethod } from "../../src/runtime/methods.js";
import { RpcError } from "../../src/core/errors.js";
import { Code } from "../../src/core/code.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (Debian's chromium package; .ci/run installs it)`;
const IMAGES = new URL("../../docs/images/", import.meta.url);
/** Markup an operation carries (its error message): the page must show it as text. */
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

async function rest(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Demo/Sleep whose first attempt fails UNAVAILABLE (with markup in its message), retried a minute later. */
const flakySleep = defineMethod({
  method: Demo.method.sleep,
  response: SleepResponseSchema,
  metadata: SleepMetadataSchema,
  retry: { maxAttempts: 2, initialBackoffMs: 60_000, jitter: 0 },
  async handler(_request, ctx) {
    if (ctx.attempt === 1) throw new RpcError(Code.UNAVAILABLE, "<b>flaky</b> backend");
    return {};
  },
});

const sleep = (t: TestServer, body: unknown): Promise<{ name: string }> => rest(t, "POST", "/v1/demo:sleep", body);

/** The names in the table, in order. */
const shownNames = (page: Page): Promise<string[]> =>
  page.$$eval("table.operations tbody tr[data-name]", (rows) => rows.map((r) => r.getAttribute("data-name") ?? ""));

async function rowCount(page: Page, n: number): Promise<void> {
  await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll("table.operations tbody tr[data-name]").length === n, n, { timeout: 10_000 });
}

describe("the dashboard in headless Chromium", { skip: SKIP, timeout: 90_000 }, () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    t = await startTestServer();
    // 1,000 operations, 10 of them failing NOT_FOUND, started over REST 100 at a time.
    for (let i = 0; i < 1000; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => sleep(t, i + j < 10 ? { duration: "0s", failWith: { code: 5, message: `missing ${i + j}` } } : { duration: "0s" })),
      );
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on("pageerror", (e) => pageErrors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("lists the operations newest first, as ListOperations pages them", async () => {
    await page.goto(`${t.url}/ui/?pageSize=50`);
    await rowCount(page, 50);
    const first = await rest(t, "GET", "/v1/operations?pageSize=50");
    assert.deepEqual(await shownNames(page), first.operations.map((o: any) => o.name));
    const headers = await page.$$eval("table.operations th", (ths) => ths.map((th) => th.textContent));
    assert.deepEqual(headers, ["name", "method", "state", "progress", "created", "updated", "duration"]);
    const row = await page.$eval("table.operations tbody tr", (tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent));
    assert.equal(row[1], "longrun.demo.v1.Demo.Sleep");
    assert.equal(row[2], "done");
  });

  it("charts the operations started and finished per minute over the last hour, from GetOperationActivity", async () => {
    await page.goto(`${t.url}/ui/`);
    await page.waitForFunction(() => /^This minute: \d+ started/.test((globalThis as any).document.querySelector("#activity-summary")?.textContent ?? ""), undefined, { timeout: 10_000 });
    const summary = (await page.textContent("#activity-summary")) ?? "";
    const hour = /Last hour: (\d+) started, (\d+) finished/.exec(summary);
    const api = await rest(t, "GET", "/v1/operations:activity?window=3600s&bucket=60s");
    const total = (k: "started" | "finished") => api.buckets.reduce((n: number, b: Record<string, string>) => n + Number(b[k] ?? 0), 0);
    assert.ok(hour && Number(hour[1]) >= 1000, summary);
    assert.ok(Math.abs(Number(hour![1]) - total("started")) <= 5, `${summary} against ${total("started")}`);
    assert.equal(await page.locator("svg.activity-chart rect").count(), 120, "60 minutes × started and finished");
  });

  it("counts the operations by method and state from GetOperationCounts, and the counts follow the live stream", async () => {
    await page.goto(`${t.url}/ui/`);
    const cell = (state: string) => `#counts td[data-method="longrun.demo.v1.Demo.Sleep"][data-state="${state}"]`;
    const count = (state: string) => page.textContent(cell(state)).then(Number);
    await page.waitForSelector(cell("done"), { timeout: 10_000 });
    assert.deepEqual(
      { queued: await count("queued"), running: await count("running"), paused: await count("paused"), done: await count("done"), failed: await count("failed"), cancelled: await count("cancelled") },
      { queued: 0, running: 0, paused: 0, done: 990, failed: 10, cancelled: 0 },
    );
    await page.waitForSelector("#live.live-on");
    await sleep(t, { duration: "1.5s" });
    // Running, then done: told by the stream, read again at most once a second (no reload, no poll).
    await page.waitForFunction((sel) => (globalThis as any).document.querySelector(sel)?.textContent === "1", cell("running"), { timeout: 10_000 });
    await page.waitForFunction((sel) => (globalThis as any).document.querySelector(sel)?.textContent === "991", cell("done"), { timeout: 10_000 });
    assert.equal(await count("running"), 0);
  });

  it("filters with AIP-160, the filter in the URL", async () => {
    await page.fill("#filter", "error.code = NOT_FOUND");
    await page.click("form.filter button[type=submit]");
    await rowCount(page, 10);
    assert.deepEqual(new Set(await page.$$eval("table.operations tbody tr", (rows) => rows.map((r) => r.getAttribute("data-state")))), new Set(["failed"]));
    assert.equal(new URL(page.url()).searchParams.get("filter"), "error.code = NOT_FOUND");
    // The quick filters are filters too.
    await page.click('nav.quick button[data-state="running"]');
    await page.waitForFunction(() => (globalThis as any).document.querySelector("table.operations tbody td.muted")?.textContent === "No operations.");
    assert.equal(new URL(page.url()).searchParams.get("filter"), "done = false");
  });

  it("shows a filter's error with the column ListOperations names", async () => {
    await page.fill("#filter", "done = true AND bogus_field = 1");
    await page.click("form.filter button[type=submit]");
    const text = await page.waitForSelector("#filter-error .error").then((e) => e.textContent());
    assert.match(text ?? "", /INVALID_ARGUMENT/);
    assert.match(text ?? "", /bogus_field/);
    assert.match(text ?? "", /\^ column 17/);
    assert.equal(await page.getAttribute("#filter", "aria-invalid"), "true");
  });

  it("pages forward and back (keyset tokens), and a page's URL opens that page", async () => {
    await page.goto(`${t.url}/ui/?pageSize=100`);
    await rowCount(page, 100);
    const page1 = await shownNames(page);
    await page.click("#next");
    await page.waitForFunction((first) => { const name = (globalThis as any).document.querySelector("table.operations tbody tr")?.getAttribute("data-name"); return name != null && name !== first; }, page1[0]);
    await rowCount(page, 100);
    const page2 = await shownNames(page);
    const url2 = page.url();
    assert.ok(new URL(url2).searchParams.get("pageToken"));
    await page.click("#next");
    await page.waitForFunction((first) => { const name = (globalThis as any).document.querySelector("table.operations tbody tr")?.getAttribute("data-name"); return name != null && name !== first; }, page2[0]);
    await rowCount(page, 100);
    const page3 = await shownNames(page);
    assert.equal(new Set([...page1, ...page2, ...page3]).size, 300, "no operation on two pages");
    await page.click("#prev");
    await page.waitForFunction((first) => (globalThis as any).document.querySelector("table.operations tbody tr")?.getAttribute("data-name") === first, page2[0]);
    assert.deepEqual(await shownNames(page), page2);
    await page.click("#prev");
    await page.waitForFunction((first) => (globalThis as any).document.querySelector("table.operations tbody tr")?.getAttribute("data-name") === first, page1[0]);
    assert.deepEqual(await shownNames(page), page1);
    assert.equal(await page.isDisabled("#prev"), true);
    // Shared: the second page's URL, opened afresh, shows the second page.
    const other = await browser.newPage();
    await other.goto(url2);
    await rowCount(other, 100);
    assert.deepEqual(await shownNames(other), page2);
    await other.close();
  });

  it("moves a running operation's progress bar live, without reloading", async () => {
    await page.goto(`${t.url}/ui/`);
    await page.waitForSelector("#live.live-on");
    const { name } = await sleep(t, { duration: "3s" });
    const seen = new Set<string>();
    const deadline = Date.now() + 8000;
    let state = "";
    let shot: Buffer | undefined;
    while (Date.now() < deadline) {
      const now = await page.evaluate((name) => {
        const row = (globalThis as any).document.querySelector(`tr[data-name="${name}"]`);
        return { value: row?.querySelector("progress")?.getAttribute("value") ?? "", state: row?.getAttribute("data-state") ?? "" };
      }, name);
      if (now.value !== "") seen.add(now.value);
      // The list as docs/dashboard.md shows it: an operation running.
      if (seen.size === 3 && !shot) shot = await page.screenshot({ path: screenshotPath("dashboard-list.png") });
      state = now.state;
      if (state === "done") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(state, "done");
    const moving = [...seen].map(Number).filter((v) => v > 0 && v < 100);
    assert.ok(moving.length >= 3, `progress seen: ${[...seen].join(", ")}`);
  });

  it("cancels a running operation from its page (after a confirm step): the handler ends CANCELLED", async () => {
    const { name } = await sleep(t, { duration: "30s" });
    await page.goto(`${t.url}/ui/operations/${name}`);
    // Running, and seen so: the handler has reported progress.
    await page.waitForFunction(() => Number((globalThis as any).document.querySelector('dd[data-field="progress"] progress')?.getAttribute("value")) >= 1, undefined, { timeout: 10_000 });
    await page.click('button[data-action="cancel"]');
    // The confirm step: nothing is sent until it is answered.
    await page.click("dialog.confirm button:has-text('Keep it')");
    assert.equal((await rest(t, "GET", `/v1/${name}`)).done, undefined);
    await page.click('button[data-action="cancel"]');
    await page.click("dialog.confirm button.danger");
    await page.waitForSelector(".state-cancelled", { timeout: 10_000 });
    const op = await rest(t, "GET", `/v1/${name}`);
    assert.equal(op.done, true);
    assert.equal(op.error.code, 1);
    assert.ok(op.metadata.progressPercent >= 1 && op.metadata.progressPercent < 100, "the handler ran, and stopped");
    await page.waitForSelector('pre[data-json="error"]');
    await page.screenshot({ path: screenshotPath("dashboard-detail.png") });
  });

  it("deletes an operation from its page", async () => {
    const { name } = await sleep(t, { duration: "0s" });
    await page.goto(`${t.url}/ui/operations/${name}`);
    await page.waitForSelector(".state-done");
    await page.click('button[data-action="delete"]');
    await page.click("dialog.confirm button.danger");
    await page.waitForURL(`${t.url}/ui/`);
    const res = await fetch(`${t.url}/v1/${name}`);
    assert.equal(res.status, 404);
  });

  it("shows an operation's method, request and timeline from GetOperationDetails", async () => {
    const { name } = await sleep(t, { duration: "0.200s" });
    await page.goto(`${t.url}/ui/operations/${name}`);
    await page.waitForSelector('ol.timeline li[data-event="finished"]', { timeout: 10_000 });
    assert.equal(await page.textContent('dd[data-field="method"]'), "longrun.demo.v1.Demo.Sleep");
    assert.equal(await page.textContent('dd[data-field="started by"]'), "—", "no auth: nobody named");
    assert.equal(await page.textContent('dd[data-field="attempts"]'), "1");
    const request = JSON.parse((await page.textContent('pre[data-json="request"]')) ?? "null");
    assert.deepEqual(request, { "@type": "type.googleapis.com/longrun.demo.v1.SleepRequest", duration: "0.200s" });
    const events = await page.$$eval("ol.timeline li", (lis) => lis.map((li) => li.getAttribute("data-event")));
    assert.deepEqual(events.filter((e) => e === "created" || e === "started" || e === "finished"), ["created", "started", "finished"]);
    assert.match((await page.textContent('ol.timeline li[data-event="finished"]')) ?? "", /finished: done · ran \d/);
    assert.equal(await page.locator('ol.timeline li[data-event="attempt"]').count(), 0, "one attempt only");
  });

  it("shows a failed attempt waiting for its retry, and links a retry to what it retries", async () => {
    const flaky = await startTestServer({ methods: [flakySleep] });
    try {
      const { name } = await sleep(flaky, { duration: "0s" });
      await page.goto(`${flaky.url}/ui/operations/${name}`);
      const failed = await page.waitForSelector('ol.timeline li[data-event="attempt-failed"]', { timeout: 10_000 }).then((e) => e.textContent());
      assert.equal(failed, "attempt 1 failed: UNAVAILABLE <b>flaky</b> backend", "as text");
      assert.match((await page.textContent('ol.timeline li[data-event="next-attempt"]')) ?? "", /^next attempt at .+ · in \d/);
    } finally {
      await flaky.close();
    }
    const { name: old } = await sleep(t, { duration: "0s", failWith: { code: 9, message: "no" } });
    for (let i = 0; i < 400 && (await rest(t, "GET", `/v1/${old}`)).done !== true; i++) await new Promise((r) => setTimeout(r, 25));
    const again = await rest(t, "POST", `/v1/${old}:retry`, {});
    await page.goto(`${t.url}/ui/operations/${again.name}`);
    assert.equal(await page.waitForSelector("a[data-retry-of]").then((e) => e.textContent()), old);
  });

  it("falls back to what the Operation says when GetOperationDetails is refused", async () => {
    const { name } = await sleep(t, { duration: "0s" });
    const refuse = "**/*:details";
    await page.route(refuse, (route) =>
      route.fulfill({ status: 403, contentType: "application/json", body: JSON.stringify({ error: { code: 7, message: "no details for you", status: "PERMISSION_DENIED" } }) }));
    try {
      await page.goto(`${t.url}/ui/operations/${name}`);
      const note = await page.waitForSelector("#details-unavailable", { timeout: 10_000 }).then((e) => e.textContent());
      assert.match(note ?? "", /PERMISSION_DENIED: no details for you/);
      await page.waitForSelector(".state-done");
      assert.equal(await page.textContent('dd[data-field="method"]'), "longrun.demo.v1.Demo.Sleep", "named from the metadata's type");
      assert.equal(await page.textContent('dd[data-field="started by"]'), "—");
      assert.equal(await page.locator('pre[data-json="request"]').count(), 0);
      assert.equal(await page.locator("ol.timeline").count(), 0);
    } finally {
      await page.unroute(refuse);
    }
  });

  it("cancels every operation not done that the filter matches (bulk, after a confirm step), through the API", async () => {
    const long = [];
    for (let i = 0; i < 3; i++) long.push((await sleep(t, { duration: "60s", requestId: `bulk-${i}` })).name);
    const other = (await sleep(t, { duration: "60s", requestId: "bulk-other" })).name;
    // A filter matching the three only (by name), and one already done among what it would match.
    const filter = long.map((n) => `name = "${n}"`).join(" OR ");
    await page.goto(`${t.url}/ui/?filter=${encodeURIComponent(filter)}`);
    await rowCount(page, 3);
    await page.click("#bulk-cancel");
    await page.waitForSelector("dialog.confirm");
    assert.match((await page.textContent("dialog.confirm p")) ?? "", /^Cancel 3 operations not done matching /);
    await page.click("dialog.confirm button:has-text('Keep it')");
    assert.equal((await rest(t, "GET", `/v1/${long[0]}`)).done, undefined, "nothing sent before the confirm step");
    await page.click("#bulk-cancel");
    await page.click("dialog.confirm button.danger");
    await page.waitForFunction(() => (globalThis as any).document.querySelector("#bulk-progress")?.textContent === "Cancel requested for 3 of 3.", undefined, { timeout: 10_000 });
    for (const name of long) {
      const deadline = Date.now() + 10_000;
      let op = await rest(t, "GET", `/v1/${name}`);
      while (op.done !== true && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        op = await rest(t, "GET", `/v1/${name}`);
      }
      assert.equal(op.error?.code, 1, `${name} cancelled`);
    }
    assert.equal((await rest(t, "GET", `/v1/${other}`)).done, undefined, "an operation the filter does not match is left alone");
    await rest(t, "POST", `/v1/${other}:cancel`, {});
  });

  it("shows markup an operation carries as text, never as HTML", async () => {
    const { name } = await sleep(t, { duration: "0s", failWith: { code: 9, message: XSS } });
    await page.goto(`${t.url}/ui/operations/${name}`);
    const error = await page.waitForSelector('pre[data-json="error"]').then((e) => e.textContent());
    assert.ok(error?.includes(XSS.replace(/"/g, '\\"')), error ?? "");
    // The request (GetOperationDetails) carries it too: text as well.
    const request = await page.waitForSelector('pre[data-json="request"]').then((e) => e.textContent());
    assert.ok(request?.includes(XSS.replace(/"/g, '\\"')), request ?? "");
    assert.match((await page.textContent('ol.timeline li[data-event="finished"]')) ?? "", /failed \(code 9: <img src=x/);
    assert.equal(await page.evaluate(() => (globalThis as any).document.querySelectorAll("img").length), 0);
    // And in the filter box, whose text an error message may echo.
    await page.goto(`${t.url}/ui/?filter=${encodeURIComponent(XSS)}`);
    await page.waitForSelector("#filter-error .error");
    const injected = await page.evaluate(() => ({
      xss: (globalThis as unknown as { __xss?: number }).__xss,
      images: (globalThis as any).document.querySelectorAll("img").length,
      scripts: [...(globalThis as any).document.querySelectorAll("script")].map((s) => s.getAttribute("src")),
    }));
    assert.deepEqual(injected, { xss: undefined, images: 0, scripts: ["/ui/static/app.js"] });
    assert.deepEqual(dialogs, []);
  });

  it("a page of another origin cannot act through the REST API (cross-origin POST refused)", async () => {
    const { name } = await sleep(t, { duration: "30s" });
    // localhost and 127.0.0.1 are both served, and are different origins (and sites); a page there without
    // the dashboard's CSP (which would not let it fetch another origin at all): a JSON answer of the API.
    const other = await browser.newPage();
    await other.goto(`${t.url.replace("127.0.0.1", "localhost")}/v1/operations?pageSize=1`);
    const status = await other.evaluate(async (url) => {
      const res = await fetch(url, { method: "POST", mode: "no-cors" });
      return res.type;
    }, `${t.url}/v1/${name}:cancel`);
    assert.equal(status, "opaque");
    await other.close();
    const op = await rest(t, "GET", `/v1/${name}`);
    assert.equal(op.done, undefined, "the operation was not cancelled");
    await rest(t, "POST", `/v1/${name}:cancel`, {});
  });

  it("raised no error in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});

const VIEWER_KEY = "lr_ui_viewer_key";
const EDITOR_KEY = "lr_ui_editor_key";

describe("the dashboard with auth on, in headless Chromium", { skip: SKIP, timeout: 30_000 }, () => {
  let t: TestServer;
  let browser: Browser;
  before(async () => {
    const auth: AuthConfig = {
      apiKeys: [
        { sha256: hashApiKey(VIEWER_KEY), principal: "user:viewer" },
        { sha256: hashApiKey(EDITOR_KEY), principal: "user:editor" },
      ],
      bindings: [
        { role: "roles/longrun.viewer", members: ["user:viewer"], resource: "*" },
        { role: "roles/longrun.editor", members: ["user:editor"], resource: "*" },
      ],
    };
    t = await startTestServer({ auth, audit: () => {} });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("asks for a key once, keeps it in the tab (never in the URL), and the API's permissions hold", async () => {
    const started = await fetch(`${t.url}/v1/demo:sleep`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": EDITOR_KEY },
      body: JSON.stringify({ duration: "30s" }),
    });
    const { name } = (await started.json()) as { name: string };
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on("request", (r) => requested.push(r.url()));
    await page.goto(`${t.url}/ui/`);
    await page.fill("#credential", "lr_wrong_key");
    await page.click("form.credential button[type=submit]");
    await page.waitForSelector("text=did not accept the credential");
    await page.fill("#credential", VIEWER_KEY);
    await page.click("form.credential button[type=submit]");
    await rowCount(page, 1);
    await page.waitForSelector("#live.live-on");
    assert.equal(await page.evaluate(() => (globalThis as any).sessionStorage.getItem("longrun.credential")), JSON.stringify({ kind: "apiKey", value: VIEWER_KEY }));
    // A viewer may look, not cancel: the page's cancel is the API's, refused the same way.
    await page.click(`a[href="/ui/operations/${name}"]`);
    await page.waitForSelector('button[data-action="cancel"]');
    // Who started it, from GetOperationDetails, which the viewer may read as it may GetOperation.
    await page.waitForSelector('ol.timeline li[data-event="started"]', { timeout: 10_000 });
    assert.equal(await page.textContent('dd[data-field="started by"]'), "user:editor");
    assert.equal(await page.textContent('dd[data-field="method"]'), "longrun.demo.v1.Demo.Sleep");
    await page.click('button[data-action="cancel"]');
    await page.click("dialog.confirm button.danger");
    const refused = await page.waitForSelector("#notice .error").then((e) => e.textContent());
    assert.match(refused ?? "", /PERMISSION_DENIED/);
    const op = await fetch(`${t.url}/v1/${name}`, { headers: { "x-goog-api-key": VIEWER_KEY } }).then((r) => r.json() as Promise<any>);
    assert.equal(op.done, undefined);
    assert.ok(requested.every((url) => !url.includes(VIEWER_KEY) && !url.includes("lr_wrong_key")), "no credential in any URL");
    await page.close();
  });
});

describe("the dashboard with parent-scoped names, in headless Chromium", { skip: SKIP, timeout: 30_000 }, () => {
  it("asks which parent to list, lists it, and opens an operation of it", async () => {
    const t = await startTestServer({ methods: [instantScopedRun], names: { parent: "projects/*/locations/*" } });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const ops = await Promise.all(
        ["projects/a/locations/x", "projects/b/locations/x"].map((parent) => rest(t, "POST", `/v1/${parent}:run`, {}).then((op) => op.name as string)),
      );
      const page = await browser.newPage();
      await page.goto(`${t.url}/ui/`);
      await page.waitForSelector("text=Give the parent");
      await page.fill("#parent", "projects/a/locations/x");
      await page.click("form.filter button[type=submit]");
      await rowCount(page, 1);
      assert.deepEqual(await shownNames(page), [ops[0]]);
      await page.click(`a[href="/ui/operations/${ops[0]}"]`);
      await page.waitForSelector(".state-done");
      await page.waitForSelector("#live.live-on");
      assert.equal(await page.textContent("h1.name"), ops[0]);
    } finally {
      await browser.close();
      await t.close();
    }
  });
});

function screenshotPath(file: string): string {
  mkdirSync(IMAGES, { recursive: true });
  return new URL(file, IMAGES).pathname;
}
