// The NATS JetStream sink against a real nats-server -js: what a consumer reads, dedupe by Nats-Msg-Id,
// outcomes when no stream captures the subject, when the stream refuses, when the server is down.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { NatsSink } from "../../src/notify/nats.js";
import { deliverUntilDelivered, never, notification, operation } from "../support/notifications.js";
import { startNatsServer, type Broker } from "../support/brokers.js";

let broker: Broker;
let nc: NatsConnection;
let jsm: JetStreamManager;
const sinks: NatsSink[] = [];

before(async () => {
  broker = await startNatsServer();
  nc = await connect({ servers: `127.0.0.1:${broker.port}` });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "DONE", subjects: ["longrun.done.>"] });
});

after(async () => {
  for (const sink of sinks) await sink.close();
  await nc?.close();
  await broker?.dispose();
});

function sinkFor(url: string, timeoutMs = 2000): NatsSink {
  const sink = new NatsSink(url, { timeoutMs });
  sinks.push(sink);
  return sink;
}

/** The messages of the stream on `subject`, read by an ordered consumer (nats-server 2.9 has no filter_subjects: all are read, those on `subject` kept). */
async function readBack(subject: string): Promise<JsMsg[]> {
  const consumer = await jetstream(nc).consumers.get("DONE");
  const pending = (await consumer.info()).num_pending;
  const messages: JsMsg[] = [];
  if (pending === 0) return messages;
  let read = 0;
  for await (const m of await consumer.fetch({ max_messages: pending, expires: 2000 })) {
    if (m.subject === subject) messages.push(m);
    if (++read === pending) break;
  }
  return messages;
}

describe("NATS JetStream sink", () => {
  it("publishes the operation JSON with the attributes as headers; a consumer reads them", async () => {
    const sink = sinkFor(`nats://127.0.0.1:${broker.port}/longrun.done.a`);
    assert.equal(sink.name, `nats://127.0.0.1:${broker.port}/longrun.done.a`);
    const outcomes = await sink.deliver([notification("ev-1"), notification("ev-2", "NONE")], never);
    assert.deepEqual(outcomes, [{ kind: "delivered" }, { kind: "delivered" }]);
    const [first, second] = await readBack("longrun.done.a");
    assert.ok(first && second);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(first.data)), operation);
    assert.equal(first.headers?.get("eventType"), "OPERATION_DONE");
    assert.equal(first.headers?.get("operationName"), "operations/abc");
    assert.equal(first.headers?.get("payloadFormat"), "JSON");
    assert.equal(first.headers?.get("Longrun-Event-Id"), "ev-1");
    assert.equal(first.headers?.get("Nats-Msg-Id"), "ev-1");
    assert.equal(second.data.length, 0);
    assert.equal(second.headers?.get("payloadFormat"), "NONE");
    assert.equal(second.headers?.get("Longrun-Event-Id"), "ev-2");
  });

  it("a second publish of the same eventId is delivered but not stored twice", async () => {
    const sink = sinkFor(`nats://127.0.0.1:${broker.port}/longrun.done.b`);
    assert.deepEqual(await sink.deliver([notification("ev-dup")], never), [{ kind: "delivered" }]);
    assert.deepEqual(await sink.deliver([notification("ev-dup"), notification("ev-other")], never), [
      { kind: "delivered" },
      { kind: "delivered" },
    ]);
    const stored = await readBack("longrun.done.b");
    assert.deepEqual(stored.map((m) => m.headers?.get("Longrun-Event-Id")), ["ev-dup", "ev-other"]);
  });

  it("a subject no stream captures: retry, saying so", async () => {
    const sink = sinkFor(`nats://127.0.0.1:${broker.port}/elsewhere.x`);
    const [outcome] = await sink.deliver([notification("ev-3")], never);
    assert.equal(outcome!.kind, "retry");
    assert.match((outcome as { reason: string }).reason, /no JetStream stream captures subject elsewhere\.x/);
  });

  it("a message the stream refuses for good (over its max_msg_size): failed", async () => {
    await jsm.streams.add({ name: "SMALL", subjects: ["small.>"], max_msg_size: 8 });
    const sink = sinkFor(`nats://127.0.0.1:${broker.port}/small.x`);
    const [outcome] = await sink.deliver([notification("ev-4")], never);
    assert.equal(outcome!.kind, "failed");
    assert.match((outcome as { reason: string }).reason, /message size exceeds maximum/);
  });

  it("user and password from the URL authenticate, and never show", async () => {
    const secured = await startNatsServer(["--user", "alice", "--pass", "pa55-word"]);
    try {
      const sink = sinkFor(`nats://alice:pa55-word@127.0.0.1:${secured.port}/nowhere`);
      assert.equal(sink.name, `nats://127.0.0.1:${secured.port}/nowhere`);
      const [outcome] = await sink.deliver([notification("ev-5")], never);
      assert.match((outcome as { reason: string }).reason, /no JetStream stream captures/, "connected and asked JetStream");
      const wrong = sinkFor(`nats://alice:wrong-pass@127.0.0.1:${secured.port}/nowhere?token=tok-1`);
      assert.equal(wrong.name, `nats://127.0.0.1:${secured.port}/nowhere?…`);
      const [refused] = await wrong.deliver([notification("ev-5")], never);
      assert.equal(refused!.kind, "retry");
      const shown = JSON.stringify([wrong.name, refused]);
      for (const secret of ["alice", "wrong-pass", "tok-1"]) assert.equal(shown.includes(secret), false, shown);
    } finally {
      await secured.dispose();
    }
  });

  it("server down: retry; started again: delivered on the same sink", async () => {
    const sink = sinkFor(`nats://127.0.0.1:${broker.port}/longrun.done.c`, 500);
    assert.deepEqual(await sink.deliver([notification("ev-6")], never), [{ kind: "delivered" }]);
    await nc.close();
    await broker.stop();
    const [down] = await sink.deliver([notification("ev-7")], never);
    assert.equal(down!.kind, "retry", JSON.stringify(down));
    await broker.restart();
    assert.deepEqual(await deliverUntilDelivered(sink, notification("ev-7")), { kind: "delivered" });
    nc = await connect({ servers: `127.0.0.1:${broker.port}` });
    jsm = await jetstreamManager(nc);
    const stored = await readBack("longrun.done.c");
    assert.deepEqual(stored.map((m) => m.headers?.get("Longrun-Event-Id")), ["ev-6", "ev-7"]);
  });

  it("no server at all: retry, and a closed sink retries too", async () => {
    const sink = sinkFor("nats://127.0.0.1:1/longrun.done.d", 1000);
    const [outcome] = await sink.deliver([notification("ev-8")], never);
    assert.equal(outcome!.kind, "retry");
    assert.match((outcome as { reason: string }).reason, /cannot connect to NATS/);
    await sink.close();
    await sink.close();
    assert.equal((await sink.deliver([notification("ev-8")], never))[0]!.kind, "retry");
  });

  it("an aborted signal: retry", async () => {
    const controller = new AbortController();
    controller.abort();
    const sink = sinkFor(`nats://127.0.0.1:${broker.port}/longrun.done.e`);
    assert.deepEqual(await sink.deliver([notification("ev-9")], controller.signal), [{ kind: "retry", reason: "aborted (shutting down)" }]);
  });

  it("refuses URLs without a literal subject", () => {
    for (const url of ["nats://127.0.0.1:4222", "nats://127.0.0.1:4222/", "nats://h/a.*", "nats://h/a.>", "nats://h/a..b", "http://h/x"]) {
      assert.throws(() => new NatsSink(url), /NATS URL/, url);
    }
  });
});
