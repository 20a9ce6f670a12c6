// The structured logger of `longrun serve` (pino as longrun's Logger), request ids, and consoleLogger's fields.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createPino, parseLogLevel, pinoLogger } from "../../src/observability/logging.js";
import { requestIdOf } from "../../src/service/request-id.js";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text, lines: () => text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("pinoLogger", () => {
  it("a line with an error is error (err serialized), one without is warn; fields on the line", () => {
    const out = capture();
    const log = pinoLogger(createPino({ format: "json", stream: out.stream }));
    log("finishing failed", new Error("boom"), { operation: "operations/a", method: "x.Y.Z" });
    log("dropped a detail", undefined, { operation: "operations/b" });
    const [first, second] = out.lines();
    assert.equal(first?.["level"], 50);
    assert.equal(first?.["msg"], "finishing failed");
    assert.equal(first?.["operation"], "operations/a");
    assert.equal((first?.["err"] as { message?: string }).message, "boom");
    assert.equal(typeof first?.["time"], "number");
    assert.equal(second?.["level"], 40);
    assert.equal(second?.["operation"], "operations/b");
  });

  it("debug only when the level writes it", () => {
    assert.equal(pinoLogger(createPino({ format: "json", stream: capture().stream })).debug, undefined);
    const out = capture();
    const log = pinoLogger(createPino({ level: "debug", format: "json", stream: out.stream }));
    log.debug?.("rpc", { requestId: "r-1" });
    assert.deepEqual(out.lines().map((l) => [l["level"], l["msg"], l["requestId"]]), [[20, "rpc", "r-1"]]);
  });

  it("fields named like credentials are censored", () => {
    const out = capture();
    pinoLogger(createPino({ format: "json", stream: out.stream }))("oops", undefined, { authorization: "Bearer abc.def", apiKey: "lr_k", requestId: "r" });
    assert.ok(!out.text().includes("abc.def") && !out.text().includes("lr_k"), out.text());
    assert.match(out.text(), /"requestId":"r"/);
  });

  it("pretty: lines for people", () => {
    const out = capture();
    pinoLogger(createPino({ format: "pretty", stream: out.stream }))("hello", undefined, { operation: "operations/a" });
    assert.match(out.text(), /WARN.*hello/);
    assert.match(out.text(), /operation: "operations\/a"/);
  });

  it("--log-level accepts pino's levels only", () => {
    assert.equal(parseLogLevel("debug"), "debug");
    assert.throws(() => parseLogLevel("verbose"), /not a log level/);
  });
});

describe("requestIdOf", () => {
  it("keeps a sane x-request-id, replaces anything else by a UUID", () => {
    assert.equal(requestIdOf("req-1.abc_DEF:9"), "req-1.abc_DEF:9");
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [undefined, "", "has space", 'quote"d', "line\nbreak", "x".repeat(129)]) assert.match(requestIdOf(bad), uuid, String(bad));
    assert.notEqual(requestIdOf(undefined), requestIdOf(undefined));
  });
});
