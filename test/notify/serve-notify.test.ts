// `longrun serve --notify`: finished operations announced to a real webhook receiver over loopback, through
// the real CLI and SQLite file. What the receiver gets (Pub/Sub push envelopes, signed), and what survives
// faults: the receiver down then up, answering 500 for a while, refusing one event with 400, and the
// server killed (-9) between finish and delivery.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyWebhookSignature } from "../../src/client/index.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { startWebhookReceiver, envelopeOf, type WebhookReceiver } from "../support/webhook-receiver.js";
import { until } from "../support/manual-clock.js";

const SECRET = "s3cret-notify-key";
const dirs: string[] = [];
const servers: ServerProcess[] = [];
const receivers: WebhookReceiver[] = [];
after(async () => {
  for (const s of servers) s.child.kill("SIGKILL");
  for (const r of receivers) await r.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "longrun-notify-"));
  dirs.push(dir);
  return join(dir, "ops.db");
}

async function serve(db: string, url: string, extra: string[] = []): Promise<ServerProcess> {
  const s = await spawnServer(["--demo", "--store", `sqlite:${db}`, "--notify", url, "--notify-secret", SECRET, "--notify-timeout", "500ms", ...extra]);
  servers.push(s);
  return s;
}

async function post(server: ServerProcess, path: string, body: unknown): Promise<{ name: string }> {
  const res = await fetch(`${server.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { name: string };
}

/** Waits (in real time, bounded) until `check` holds. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Listed {
  eventId: string;
  operationName: string;
  state: "PENDING" | "FAILED";
  attempts?: number;
  lastError?: string;
}

/** The outbox as the server lists it (GET /v1/notifications, longrun.admin.v1.Notifications). */
async function listed(server: ServerProcess): Promise<Listed[]> {
  const res = await fetch(`${server.httpUrl}/v1/notifications?pageSize=1000`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { notifications?: Listed[] }).notifications ?? [];
}

/** The outbox as the store holds it, once the server process is gone (the SQLite file is one process's). */
async function outbox(db: string) {
  const store = SqliteStore.open(db);
  try {
    return await store.listEvents({ limit: 100 });
  } finally {
    await store.close();
  }
}

const delivered = (r: WebhookReceiver) => r.received.filter((x) => x.status !== undefined && x.status < 300);

describe("longrun serve --notify (webhook)", () => {
  it("announces success, failure and cancellation once each: Pub/Sub push envelopes, signed, the operation as data", { timeout: 60_000 }, async () => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const db = dbPath();
    const server = await serve(db, receiver.url);
    assert.doesNotMatch(server.output(), new RegExp(SECRET), "the secret is never printed");
    assert.match(server.output(), /longrun: notify http:\/\/127\.0\.0\.1:\d+\/hook/);
    const ok = await post(server, "/v1/demo:sleep", { duration: "0s" });
    const failed = await post(server, "/v1/demo:sleep", { duration: "0s", failWith: { code: 9, message: "nope" } });
    const long = await post(server, "/v1/demo:sleep", { duration: "30s" });
    await post(server, `/v1/${long.name}:cancel`, {});
    await eventually(() => delivered(receiver).length >= 3);
    await eventually(async () => (await listed(server)).length === 0);
    assert.equal(receiver.received.length, 3, "each once");

    const byName = new Map(receiver.received.map((r) => [envelopeOf(r).attributes["operationName"], r]));
    for (const [name, type] of [[ok.name, "OPERATION_SUCCEEDED"], [failed.name, "OPERATION_FAILED"], [long.name, "OPERATION_CANCELLED"]] as const) {
      const r = byName.get(name);
      assert.ok(r, `${name} announced`);
      assert.equal(r.headers["content-type"], "application/json");
      assert.ok(verifyWebhookSignature({ header: r.headers["longrun-signature"] as string, body: r.body, secret: SECRET }), "signed");
      assert.ok(!verifyWebhookSignature({ header: r.headers["longrun-signature"] as string, body: r.body, secret: "other" }));
      const e = envelopeOf(r);
      assert.equal(e.attributes["eventType"], type);
      assert.equal(e.attributes["method"], "longrun.demo.v1.Demo.Sleep");
      assert.equal(e.attributes["payloadFormat"], "JSON");
      assert.equal(e.messageId, e.attributes["eventId"]);
      assert.equal(e.operation?.["name"], name);
      assert.equal(e.operation?.["done"], true);
    }
    assert.deepEqual((envelopeOf(byName.get(failed.name)!).operation?.["error"] as { code: number }).code, 9);
    assert.deepEqual((envelopeOf(byName.get(long.name)!).operation?.["error"] as { code: number }).code, 1);
    assert.equal((envelopeOf(byName.get(ok.name)!).operation?.["response"] as Record<string, string>)["@type"], "type.googleapis.com/longrun.demo.v1.SleepResponse");
  });

  it("a receiver answering 500 for a while, then down, then up: every event delivered after recovery; a 400 fails only its event", { timeout: 90_000 }, async () => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const db = dbPath();
    const server = await serve(db, receiver.url);
    receiver.answer = () => 500;
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push((await post(server, "/v1/demo:sleep", { duration: "0s" })).name);
    const refused = (await post(server, "/v1/demo:sleep", { duration: "0s", requestId: "refused-one" })).name;
    await eventually(() => receiver.received.length >= 6);
    // Now down altogether (connection refused), then up on the same port, accepting all but one.
    const port = receiver.port;
    await receiver.close();
    await eventually(async () => (await listed(server)).some((e) => (e.lastError ?? "").length > 0 && (e.attempts ?? 0) >= 2), 30_000);
    const back = await startWebhookReceiver(port);
    receivers.push(back);
    back.answer = (body) => ((JSON.parse(body) as { message: { attributes: Record<string, string> } }).message.attributes["operationName"] === refused ? 400 : 200);
    await eventually(async () => (await listed(server)).every((e) => e.state === "FAILED"), 60_000);
    const left = await listed(server);
    assert.deepEqual(left.map((e) => [e.operationName, e.state]), [[refused, "FAILED"]]);
    assert.match(left[0]?.lastError ?? "", /^HTTP 400/);
    const deliveredNames = delivered(back).map((r) => envelopeOf(r).attributes["operationName"]).sort();
    assert.deepEqual(deliveredNames, [...names].sort(), "each of the others once, after recovery");
    // An operator retries the failed one once the receiver is fixed.
    back.answer = () => 200;
    const retried = await fetch(`${server.httpUrl}/v1/notifications:retry`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ allFailed: true }) });
    assert.deepEqual(await retried.json(), { eventIds: [left[0]!.eventId] });
    await eventually(async () => (await listed(server)).length === 0, 30_000);
    assert.equal(delivered(back).filter((r) => envelopeOf(r).attributes["operationName"] === refused).length, 1);
  });

  it("OPERATION_STARTED where asked for: announced before the finish, once per operation", { timeout: 60_000 }, async () => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const server = await serve(dbPath(), receiver.url, ["--notify-events", "OPERATION_STARTED,OPERATION_SUCCEEDED"]);
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push((await post(server, "/v1/demo:sleep", { duration: "0.2s" })).name);
    await eventually(() => delivered(receiver).length >= 10);
    await eventually(async () => (await listed(server)).length === 0);
    for (const name of names) {
      const mine = receiver.received.map(envelopeOf).filter((e) => e.attributes["operationName"] === name);
      assert.deepEqual(mine.map((e) => e.attributes["eventType"]), ["OPERATION_STARTED", "OPERATION_SUCCEEDED"], name);
      assert.equal((mine[0]!.operation as { done?: boolean }).done, undefined, "started: not done yet");
    }
  });

  it("kill -9 between finish and delivery: after the restart every event is delivered, once per event id", { timeout: 90_000 }, async () => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const db = dbPath();
    // Unanswered: the first attempts hang while the server is killed mid-delivery.
    receiver.answer = () => undefined;
    const first = await serve(db, receiver.url);
    const names: string[] = [];
    for (let i = 0; i < 10; i++) names.push((await post(first, "/v1/demo:sleep", { duration: "0s" })).name);
    await eventually(() => receiver.received.length >= 1);
    // Every operation finished (its event written with it); one delivery hangs in flight.
    await eventually(async () => {
      for (const name of names) {
        const op = (await (await fetch(`${first.httpUrl}/v1/${name}`)).json()) as { done?: boolean };
        if (op.done !== true) return false;
      }
      return true;
    });
    first.child.kill("SIGKILL");
    await first.exited;
    const pending = await outbox(db);
    assert.equal(pending.length, 10, "every finish wrote its event before the kill");
    receiver.answer = () => 200;
    const second = await serve(db, receiver.url);
    await eventually(async () => (await listed(second)).length === 0, 60_000);
    const ids = delivered(receiver).map((r) => envelopeOf(r).messageId);
    assert.equal(new Set(ids).size, ids.length, "no event id delivered twice");
    assert.deepEqual(delivered(receiver).map((r) => envelopeOf(r).attributes["operationName"]).sort(), [...names].sort());
    second.child.kill("SIGTERM");
    await second.exited;
  });
});
