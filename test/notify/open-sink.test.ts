// openSink: the sink of a --notify URL by its scheme; nothing connects until the first delivery.
import { it } from "node:test";
import assert from "node:assert/strict";
import { openSink } from "../../src/notify/open-sink.js";
import { WebhookSink } from "../../src/notify/webhook.js";
import { NatsSink } from "../../src/notify/nats.js";
import { RedisSink } from "../../src/notify/redis.js";

it("picks the sink by scheme, its name without credentials", async () => {
  const cases: Array<[string, new (...args: never[]) => unknown, string]> = [
    ["https://u:pw-1@example.com/hook", WebhookSink, "https://example.com/hook"],
    ["http://example.com:8080/", WebhookSink, "http://example.com:8080/"],
    ["nats://u:pw-1@nats.example:4222/longrun.done", NatsSink, "nats://nats.example:4222/longrun.done"],
    ["tls://nats.example/longrun.done?token=pw-1", NatsSink, "tls://nats.example/longrun.done?…"],
    ["redis://:pw-1@redis.example:6379/2/done", RedisSink, "redis://redis.example:6379/2/done"],
    ["rediss://redis.example/done", RedisSink, "rediss://redis.example/done"],
  ];
  for (const [url, type, name] of cases) {
    const sink = openSink(url, { secret: "pw-2" });
    assert.ok(sink instanceof type, url);
    assert.equal(sink.name, name);
    await sink.close();
  }
});

it("refuses another scheme or a malformed URL, without repeating the URL", () => {
  assert.throws(() => openSink("kafka://u:pw-1@host/topic"), (err: Error) => /not kafka:\/\/…/.test(err.message) && !err.message.includes("pw-1"));
  assert.throws(() => openSink("not a url pw-1"), (err: Error) => /not a URL/.test(err.message) && !err.message.includes("pw-1"));
  assert.throws(() => openSink("nats://host:4222/"), /subject/);
});
