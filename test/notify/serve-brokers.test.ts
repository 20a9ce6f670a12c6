// `longrun serve --notify nats://…` and `--notify redis://…` end to end: the real CLI, a real nats-server
// with JetStream and a real redis-server (started by the test on free ports), one event per finish on each.
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Redis } from "ioredis";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { startNatsServer, startRedisServer, type Broker } from "../support/brokers.js";

let nats: Broker;
let redisBroker: Broker;
let nc: NatsConnection;
let redis: Redis;
let server: ServerProcess;
let dir: string;

before(async () => {
  [nats, redisBroker] = await Promise.all([startNatsServer(), startRedisServer()]);
  nc = await connect({ servers: `127.0.0.1:${nats.port}` });
  await (await jetstreamManager(nc)).streams.add({ name: "LONGRUN", subjects: ["longrun.>"] });
  redis = new Redis({ port: redisBroker.port, host: "127.0.0.1", lazyConnect: true });
  await redis.connect();
  dir = mkdtempSync(join(tmpdir(), "longrun-serve-brokers-"));
  server = await spawnServer([
    "--demo",
    "--store", `sqlite:${join(dir, "ops.db")}`,
    "--notify", `nats://127.0.0.1:${nats.port}/longrun.done,redis://127.0.0.1:${redisBroker.port}/done`,
    "--notify-events", "OPERATION_SUCCEEDED,OPERATION_FAILED",
  ]);
});
after(async () => {
  server?.child.kill("SIGKILL");
  redis?.disconnect();
  await nc?.close();
  await nats?.dispose();
  await redisBroker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function start(body: unknown): Promise<string> {
  const res = await fetch(`${server.httpUrl}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { name: string }).name;
}

it("each finish goes to the JetStream subject and the Redis stream once; --notify-events leaves cancellations out", { timeout: 60_000 }, async () => {
  const ok = await start({ duration: "0s" });
  const failed = await start({ duration: "0s", failWith: { code: 5, message: "gone" } });
  const cancelled = await start({ duration: "60s" });
  await fetch(`${server.httpUrl}/v1/${cancelled}:cancel`, { method: "POST" });
  const deadline = Date.now() + 30_000;
  while ((await redis.xlen("done")) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // The cancellation's own finish writes no event; wait for the outbox to be empty before counting.
  for (;;) {
    const listed = (await (await fetch(`${server.httpUrl}/v1/notifications`)).json()) as { notifications?: unknown[] };
    if ((listed.notifications ?? []).length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  const entries = await redis.xrange("done", "-", "+");
  const redisEvents = entries.map(([, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    return f;
  });
  assert.deepEqual(redisEvents.map((f) => [f["attr:operationName"], f["attr:eventType"]]).sort(), [
    [ok, "OPERATION_SUCCEEDED"],
    [failed, "OPERATION_FAILED"],
  ].sort());
  for (const f of redisEvents) assert.equal((JSON.parse(f["data"]!) as { name: string }).name, f["attr:operationName"]);

  const consumer = await jetstream(nc).consumers.get("LONGRUN");
  const messages = await consumer.fetch({ max_messages: 10, expires: 2000 });
  const seen: [string, string, string][] = [];
  for await (const m of messages) {
    seen.push([m.headers?.get("operationName") ?? "", m.headers?.get("eventType") ?? "", m.headers?.get("Nats-Msg-Id") ?? ""]);
    if (seen.length === 2) break;
  }
  assert.deepEqual(seen.map(([name, type]) => [name, type]).sort(), [[ok, "OPERATION_SUCCEEDED"], [failed, "OPERATION_FAILED"]].sort());
  const redisIds = new Set(redisEvents.map((f) => f["eventId"]));
  for (const [, , msgId] of seen) assert.ok(msgId.length > 0 && !redisIds.has(msgId), "one event per destination, each with its own id");
});
