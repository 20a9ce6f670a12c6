/** Prometheus metrics and health probes of a real server (SQLite, in-process), scraped after real operations. */
import { describe, it, before, after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { hashApiKey } from "../../src/index.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { sampleValue, scrape, type Sample } from "../support/metrics.js";
import { spawnServer } from "../support/process.js";

const ops = Operations.method;
const SLEEP = "longrun.demo.v1.Demo.Sleep";
const PAGE_TOKEN_SECRET = "page-token-secret-never-shown";
const NOTIFY_PASSWORD = "notify-password-never-shown";
const NOTIFY_SECRET = "notify-hmac-never-shown";

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Buckets of one histogram series: cumulative, ending in +Inf equal to its _count. */
function assertSaneHistogram(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => ({ le: s.labels["le"] === "+Inf" ? Infinity : Number(s.labels["le"]), value: s.value }));
  assert.ok(buckets.length > 5, `${name}: buckets`);
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(buckets[i]!.le > buckets[i - 1]!.le, `${name}: bounds ascend`);
    assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${name}: cumulative`);
  }
  const count = sampleValue(samples, `${name}_count`, labels);
  assert.equal(buckets.at(-1)!.le, Infinity);
  assert.equal(buckets.at(-1)!.value, count, `${name}: +Inf bucket is the count`);
  assert.ok(sampleValue(samples, `${name}_sum`, labels) >= 0);
  return count;
}

describe("GET /metrics", () => {
  let t: TestServer;
  const names: string[] = [];
  before(async () => {
    t = await startTestServer({
      concurrency: 1,
      shutdownGraceMs: 100,
      pageTokenSecret: PAGE_TOKEN_SECRET,
      metrics: { countsCacheMs: 0 },
      notify: [{ url: `http://user:${NOTIFY_PASSWORD}@127.0.0.1:9/hook`, secret: NOTIFY_SECRET, timeoutMs: 500 }],
      notifyRetryForMs: 60_000,
    });
  });
  after(() => t.close());

  const done = async (name: string) => (await t.grpc.call(ops.getOperation, { name })).done;

  it("counts operations started and finished by code, handler and claim times, RPCs by code, and the operations by state", async () => {
    const before = await scrape(`${t.url}/metrics`);
    assert.equal(sampleValue(before.samples, "longrun_operations_started_total"), 0);
    assert.equal(sampleValue(before.samples, "longrun_operations", { method: SLEEP, state: "queued" }), 0, "served methods read 0, not nothing");
    assert.ok(before.samples.some((s) => s.name === "longrun_operations" && s.labels["method"] === SLEEP && s.labels["state"] === "queued"));

    // Two that succeed and one that fails, run to their end.
    for (const request of [{}, {}, { failWith: { code: Code.FAILED_PRECONDITION, message: "no" } }]) {
      const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0), ...request });
      names.push(op.name);
      await until(`${op.name} done`, () => done(op.name));
    }
    // One running (it holds the only slot), one queued behind it, one cancelled while queued (over REST).
    const long = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    names.push(long.name);
    const queued = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    const cancelled = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    names.push(queued.name, cancelled.name);
    const cancel = await fetch(`${t.url}/v1/${cancelled.name}:cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(cancel.status, 200);
    await until("the cancelled one done", () => done(cancelled.name));
    // RPC errors: NOT_FOUND on both transports.
    assert.equal((await callError(t.grpc.call(ops.getOperation, { name: "operations/nope" }))).code, Code.NOT_FOUND);
    assert.equal((await fetch(`${t.url}/v1/operations/nope`)).status, 404);
    // A WaitOperation in flight.
    const waiting = t.grpc.call(ops.waitOperation, { name: long.name, timeout: durationFromMs(3000) });
    await until("the waiter", async () => sampleValue((await scrape(`${t.url}/metrics`)).samples, "longrun_wait_waiters") === 1);

    const { samples, text } = await scrape(`${t.url}/metrics`);
    assert.equal(sampleValue(samples, "longrun_operations_started_total", { method: SLEEP }), 6);
    assert.equal(sampleValue(samples, "longrun_operations_finished_total", { method: SLEEP, code: "OK" }), 2);
    assert.equal(sampleValue(samples, "longrun_operations_finished_total", { method: SLEEP, code: "FAILED_PRECONDITION" }), 1);
    assert.equal(sampleValue(samples, "longrun_operations_finished_total", { method: SLEEP, code: "CANCELLED" }), 1);
    assert.equal(sampleValue(samples, "longrun_operations", { method: SLEEP, state: "done" }), 4);
    assert.equal(sampleValue(samples, "longrun_operations", { method: SLEEP, state: "running" }), 1);
    assert.equal(sampleValue(samples, "longrun_operations", { method: SLEEP, state: "queued" }), 1);
    assert.equal(assertSaneHistogram(samples, "longrun_handler_duration_seconds", { method: SLEEP }), 3, "three handlers returned");
    assert.equal(assertSaneHistogram(samples, "longrun_claim_latency_seconds", { method: SLEEP }), 4, "four first claims");
    assert.ok(assertSaneHistogram(samples, "longrun_store_write_batch_size", { kind: "create" }) >= 6);
    assert.ok(assertSaneHistogram(samples, "longrun_store_write_batch_size", { kind: "finish" }) >= 1);
    const sleepRpc = { method: SLEEP, transport: "grpc" };
    assert.equal(sampleValue(samples, "longrun_rpc_requests_total", { ...sleepRpc, code: "OK" }), 6);
    assert.equal(assertSaneHistogram(samples, "longrun_rpc_duration_seconds", sleepRpc), 6);
    const get = "google.longrunning.Operations.GetOperation";
    assert.equal(sampleValue(samples, "longrun_rpc_requests_total", { method: get, transport: "grpc", code: "NOT_FOUND" }), 1);
    assert.equal(sampleValue(samples, "longrun_rpc_requests_total", { method: get, transport: "rest", code: "NOT_FOUND" }), 1);
    assert.equal(sampleValue(samples, "longrun_rpc_requests_total", { method: "google.longrunning.Operations.CancelOperation", transport: "rest", code: "OK" }), 1);
    assert.ok(sampleValue(samples, "longrun_rpc_requests_total", { method: get, transport: "grpc", code: "OK" }) >= 3);
    assert.equal(sampleValue(samples, "longrun_lease_lost_total"), 0);
    assert.equal(sampleValue(samples, "longrun_store_errors_total"), 0);
    assert.ok(samples.some((s) => s.name === "process_cpu_user_seconds_total"), "process metrics");
    assert.match(text, /# TYPE longrun_operations_finished_total counter/);
    assert.match(text, /# TYPE longrun_handler_duration_seconds histogram/);
    assert.match(text, /# TYPE longrun_operations gauge/);
    await waiting;
  });

  it("counts notification deliveries by destination, credentials left out, and the outbox by state", async () => {
    await until("a delivery attempt", async () => sampleValue((await scrape(`${t.url}/metrics`)).samples, "longrun_notifications_total") > 0);
    const { samples } = await scrape(`${t.url}/metrics`);
    const attempts = samples.filter((s) => s.name === "longrun_notifications_total");
    assert.deepEqual([...new Set(attempts.map((s) => s.labels["destination"]))], ["http://127.0.0.1:9/hook"]);
    assert.ok(attempts.every((s) => s.labels["outcome"] === "retried"), "nothing listens there");
    assert.ok(sampleValue(samples, "longrun_notifications_outbox_events", { state: "pending" }) >= 1);
    assert.equal(sampleValue(samples, "longrun_notifications_outbox_events", { state: "failed" }), 0);
  });

  it("names no operation and shows no secret", async () => {
    const { text } = await scrape(`${t.url}/metrics`);
    assert.ok(names.length >= 6);
    for (const name of names) {
      assert.ok(!text.includes(name), `${name} in /metrics`);
      assert.ok(!text.includes(name.split("/").at(-1)!), `the id of ${name} in /metrics`);
    }
    for (const secret of [PAGE_TOKEN_SECRET, NOTIFY_PASSWORD, NOTIFY_SECRET, "user:"]) assert.ok(!text.includes(secret), `${secret} in /metrics`);
  });

  it("serves /healthz and /readyz whatever the Host, and /metrics only to allowed hosts", async () => {
    const { request } = await import("node:http");
    const get = (path: string, host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(t.url);
        request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        })
          .on("error", reject)
          .end();
      });
    assert.equal((await get("/healthz", "10.1.2.3:8080")).status, 200);
    const ready = await get("/readyz", "10.1.2.3:8080");
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { status: "SERVING" });
    assert.equal((await get("/metrics", "evil.example")).status, 421);
    assert.equal((await fetch(`${t.url}/readyz`, { method: "POST" })).status, 404, "GET only: other methods go to the API's routing");
  });
});

describe("metrics off, on a port of their own, and with auth", () => {
  it("--no-metrics: no /metrics, the probes stay", async () => {
    const t = await startTestServer({ metrics: false });
    try {
      assert.equal((await fetch(`${t.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
      assert.equal(t.server.metrics, undefined);
      assert.equal(t.server.metricsUrl, undefined);
    } finally {
      await t.close();
    }
  });

  it("with auth on, /metrics is served only on the metrics port; the probes need no credentials", async () => {
    const key = "lr_metrics_test_key";
    const t = await startTestServer({
      auth: { apiKeys: [{ sha256: hashApiKey(key), principal: "serviceAccount:ci@example" }], bindings: [{ role: "roles/longrun.editor", members: ["serviceAccount:ci@example"], resource: "*" }] },
      audit: () => {},
      metrics: { port: 0, processMetrics: false },
    });
    try {
      assert.equal((await fetch(`${t.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${t.url}/readyz`)).status, 200);
      assert.ok(t.server.metricsUrl);
      const { samples } = await scrape(`${t.server.metricsUrl}/metrics`);
      assert.ok(samples.some((s) => s.name === "longrun_rpc_requests_total" || s.name === "longrun_operations"));
      assert.ok(!samples.some((s) => s.name.startsWith("process_")), "processMetrics: false");
      assert.equal((await fetch(`${t.server.metricsUrl}/readyz`)).status, 200);
      assert.equal((await fetch(`${t.server.metricsUrl}/other`)).status, 404);
      // An unauthenticated call is counted by its code.
      const refused = await fetch(`${t.url}/v1/operations`);
      assert.equal(refused.status, 401);
      const after = await scrape(`${t.server.metricsUrl}/metrics`);
      assert.equal(sampleValue(after.samples, "longrun_rpc_requests_total", { method: "google.longrunning.Operations.ListOperations", code: "UNAUTHENTICATED" }), 1);
    } finally {
      await t.close();
    }
  });

  it("while closing: /readyz answers 503 with a google.rpc.Status (UNAVAILABLE, NOT_READY), /healthz still 200", async () => {
    const t = await startTestServer({ metrics: { port: 0, processMetrics: false }, shutdownGraceMs: 1500 });
    const url = t.server.metricsUrl!;
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    // A handler still running holds the close in its grace period; the metrics port is the last to close.
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    await until("running", async () => sampleValue((await scrape(`${url}/metrics`)).samples, "longrun_operations", { state: "running" }) === 1);
    const closing = t.server.close();
    const answer = await fetch(`${url}/readyz`);
    assert.equal(answer.status, 503);
    const body = (await answer.json()) as { error: { code: number; message: string; status: string; details: { reason: string }[] } };
    assert.equal(body.error.code, 503);
    assert.equal(body.error.status, "UNAVAILABLE");
    assert.match(body.error.message, /shutting down/);
    assert.equal(body.error.details[0]?.reason, "NOT_READY");
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.ok(op.name);
    await closing;
    await t.close();
  });

  it("longrun serve --metrics-port: /metrics there, not on the REST port; SIGTERM closes it", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "longrun-metrics-cli-"));
    const server = await spawnServer(["--demo", "--metrics-port", "0"], { LONGRUN_STORE: `sqlite:${dir}/longrun.db` });
    try {
      await until("the metrics line", async () => /metrics and health on/.test(server.output()));
      const url = /metrics and health on (\S+)\/metrics/.exec(server.output())?.[1];
      assert.ok(url, server.output());
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const { samples } = await scrape(`${url}/metrics`);
      assert.equal(sampleValue(samples, "longrun_operations", { method: SLEEP, state: "queued" }), 0);
      assert.equal((await fetch(`${server.httpUrl}/metrics`)).status, 404);
      assert.equal((await fetch(`${server.httpUrl}/readyz`)).status, 200);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    const quiet = await spawnServer(["--demo", "--no-metrics"], { LONGRUN_STORE: `sqlite:${dir}/quiet.db` });
    try {
      assert.equal((await fetch(`${quiet.httpUrl}/metrics`)).status, 404);
      assert.doesNotMatch(quiet.output(), /metrics and health on/);
    } finally {
      quiet.child.kill("SIGTERM");
      await quiet.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
