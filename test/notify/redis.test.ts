// The Redis Streams sink against a real redis-server: the entry's fields read back with XRANGE, a batch as
// one pipeline, MAXLEN, databases, and outcomes when Redis is down or the key is not a stream.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisSink } from "../../src/notify/redis.js";
import { deliverUntilDelivered, never, notification, operation } from "../support/notifications.js";
import { startRedisServer, type Broker } from "../support/brokers.js";

let broker: Broker;
let redis: Redis;
const sinks: RedisSink[] = [];

before(async () => {
  broker = await startRedisServer();
  redis = new Redis({ host: "127.0.0.1", port: broker.port, lazyConnect: true });
  redis.on("error", () => {});
  await redis.connect();
});

after(async () => {
  for (const sink of sinks) await sink.close();
  redis?.disconnect();
  await broker?.dispose();
});

function sinkFor(path: string, timeoutMs = 2000): RedisSink {
  const sink = new RedisSink(`redis://127.0.0.1:${broker.port}${path}`, { timeoutMs });
  sinks.push(sink);
  return sink;
}

/** The entries of a stream as field → value maps. */
async function entries(stream: string, client: Redis = redis): Promise<Array<Record<string, string>>> {
  const raw = await client.xrange(stream, "-", "+");
  return raw.map(([, fields]) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i]!, fields[2 * i + 1]!])));
}

async function xaddCalls(): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(/cmdstat_xadd:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe("Redis Streams sink", () => {
  it("adds one entry per notification: eventId, publishTime, data, attr:<name>", async () => {
    const sink = sinkFor("/done-a");
    assert.equal(sink.name, `redis://127.0.0.1:${broker.port}/done-a`);
    const outcomes = await sink.deliver([notification("ev-1"), notification("ev-2", "NONE")], never);
    assert.deepEqual(outcomes, [{ kind: "delivered" }, { kind: "delivered" }]);
    const raw = await redis.xrange("done-a", "-", "+");
    assert.deepEqual(raw[0]![1], [
      "eventId", "ev-1",
      "publishTime", "2026-12-07T06:00:00.123Z",
      "data", JSON.stringify(operation),
      "attr:eventType", "OPERATION_DONE",
      "attr:eventId", "ev-1",
      "attr:operationName", "operations/abc",
      "attr:payloadFormat", "JSON",
    ]);
    const [, second] = await entries("done-a");
    assert.equal(second!.eventId, "ev-2");
    assert.equal("data" in second!, false);
    assert.equal(second!["attr:payloadFormat"], "NONE");
  });

  it("a batch is one pipeline of XADDs, in order; a repeat is added again (consumers dedupe on eventId)", async () => {
    const sink = sinkFor("/done-b");
    const ids = Array.from({ length: 50 }, (_, i) => `ev-${i}`);
    const before = await xaddCalls();
    const outcomes = await sink.deliver(ids.map((id) => notification(id)), never);
    assert.equal(await xaddCalls(), before + 50);
    assert.ok(outcomes.every((o) => o.kind === "delivered"));
    assert.deepEqual((await entries("done-b")).map((e) => e.eventId), ids);
    await sink.deliver([notification("ev-0")], never);
    assert.equal((await entries("done-b")).filter((e) => e.eventId === "ev-0").length, 2);
  });

  it("?maxlen=N trims the stream to about N; a database number picks the database", async () => {
    const sink = sinkFor("/done-c?maxlen=10");
    assert.equal(sink.maxLen, 10);
    for (let i = 0; i < 5; i++) await sink.deliver(Array.from({ length: 100 }, (_, j) => notification(`ev-${i}-${j}`)), never);
    const length = await redis.xlen("done-c");
    assert.ok(length < 500, `trimmed: ${length}`);

    const inDb3 = sinkFor("/3/done%2Fd");
    assert.equal(inDb3.stream, "done/d");
    assert.deepEqual(await inDb3.deliver([notification("ev-db")], never), [{ kind: "delivered" }]);
    assert.equal(await redis.exists("done/d"), 0);
    const db3 = new Redis({ host: "127.0.0.1", port: broker.port, db: 3 });
    try {
      assert.deepEqual((await entries("done/d", db3)).map((e) => e.eventId), ["ev-db"]);
    } finally {
      db3.disconnect();
    }
  });

  it("a key that is not a stream: retry, with Redis's reason", async () => {
    await redis.set("not-a-stream", "x");
    const [outcome] = await sinkFor("/not-a-stream").deliver([notification("ev-3")], never);
    assert.equal(outcome!.kind, "retry");
    assert.match((outcome as { reason: string }).reason, /WRONGTYPE/);
  });

  it("the password from the URL authenticates, and never shows", async () => {
    await redis.config("SET", "requirepass", "pa55-word");
    try {
      const sink = new RedisSink(`redis://:pa55-word@127.0.0.1:${broker.port}/done-e`);
      sinks.push(sink);
      assert.equal(sink.name, `redis://127.0.0.1:${broker.port}/done-e`);
      assert.deepEqual(await sink.deliver([notification("ev-4")], never), [{ kind: "delivered" }]);
      const wrong = new RedisSink(`redis://:wrong-pass@127.0.0.1:${broker.port}/done-e`, { timeoutMs: 1000 });
      sinks.push(wrong);
      const [refused] = await wrong.deliver([notification("ev-5")], never);
      assert.equal(refused!.kind, "retry");
      assert.equal(JSON.stringify([wrong.name, refused]).includes("wrong-pass"), false);
    } finally {
      await redis.config("SET", "requirepass", "");
    }
  });

  it("server down: retry; started again: delivered on the same sink", async () => {
    const sink = sinkFor("/done-f", 500);
    assert.deepEqual(await sink.deliver([notification("ev-6")], never), [{ kind: "delivered" }]);
    await broker.stop();
    const down = await sink.deliver([notification("ev-7"), notification("ev-8")], never);
    assert.deepEqual(down.map((o) => o.kind), ["retry", "retry"]);
    assert.match((down[0] as { reason: string }).reason, /^Redis is unreachable/);
    await broker.restart();
    assert.deepEqual(await deliverUntilDelivered(sink, notification("ev-7")), { kind: "delivered" });
  });

  it("no server at all: retry with the cause; closed: retry", async () => {
    const sink = new RedisSink("redis://127.0.0.1:1/x", { timeoutMs: 1000 });
    const [outcome] = await sink.deliver([notification("ev-9")], never);
    assert.equal(outcome!.kind, "retry");
    assert.match((outcome as { reason: string }).reason, /^Redis is unreachable: .*ECONNREFUSED/);
    await sink.close();
    await sink.close();
    assert.equal((await sink.deliver([notification("ev-9")], never))[0]!.kind, "retry");
  });

  it("an aborted signal: retry", async () => {
    const controller = new AbortController();
    controller.abort();
    assert.deepEqual(await sinkFor("/done-g").deliver([notification("ev-10")], controller.signal), [
      { kind: "retry", reason: "aborted (shutting down)" },
    ]);
  });

  it("refuses URLs without a stream, with a database that is not a number, or a bad maxlen", () => {
    for (const url of ["redis://h:6379", "redis://h:6379/", "redis://h/2/", "redis://h/a/b", "redis://h/1/2/s", "redis://h/s?maxlen=0", "http://h/s"]) {
      assert.throws(() => new RedisSink(url), /Redis URL/, url);
    }
  });
});
