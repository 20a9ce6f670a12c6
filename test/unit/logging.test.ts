// The structured logger of `longrun serve` (pino as longrun's Logger), request ids, and consoleLogger's fields.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createPino, parseLogLevel, pinoLogger } from "../../src/observability/logging.js";
import { requestIdOf } from "../../src/service/request-id.js";
import { loggerAuditSink, type AuditEntry } from "../../src/service/audit.js";
import type { LogFields, Logger } from "../../src/core/logger.js";

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

describe("loggerAuditSink", () => {
  const entry: AuditEntry = {
    time: "2026-12-07T03:40:00.000Z",
    principal: "user:alice",
    method: "google.longrunning.Operations.CancelOperation",
    permission: "longrun.operations.cancel",
    resource: "operations/abc",
    outcome: "OK",
    requestId: "req-audit-1",
  };

  it("an entry is a pino record at info, message audit, tagged, its fields on it (time: pino's own)", () => {
    const out = capture();
    loggerAuditSink(pinoLogger(createPino({ format: "json", stream: out.stream })))(entry);
    const [record, ...more] = out.lines();
    assert.equal(more.length, 0);
    const { time, pid, hostname, ...rest } = record!;
    assert.equal(typeof time, "number");
    assert.equal(typeof pid, "number");
    assert.equal(typeof hostname, "string");
    const { time: _entryTime, ...fields } = entry;
    assert.deepEqual(rest, { level: 30, name: "longrun", type: "longrun.audit", ...fields, msg: "audit" });
    assert.equal(out.text().match(/"time":/g)?.length, 1, "one time field");
  });

  it("the log level and format apply: nothing above info, pretty lines for people", () => {
    const quiet = capture();
    loggerAuditSink(pinoLogger(createPino({ level: "warn", format: "json", stream: quiet.stream })))(entry);
    assert.equal(quiet.text(), "");
    const pretty = capture();
    loggerAuditSink(pinoLogger(createPino({ format: "pretty", stream: pretty.stream })))(entry);
    assert.match(pretty.text(), /INFO.*audit/);
    assert.match(pretty.text(), /type: "longrun.audit"/);
    assert.match(pretty.text(), /principal: "user:alice"/);
  });

  it("a Logger without info gets the record as a plain line, not lost", () => {
    const lines: [string, unknown, LogFields | undefined][] = [];
    const log: Logger = (message, err, fields) => lines.push([message, err, fields]);
    loggerAuditSink(log)(entry);
    assert.deepEqual(lines, [["audit", undefined, { type: "longrun.audit", principal: "user:alice", method: entry.method, permission: entry.permission, resource: entry.resource, outcome: "OK", requestId: "req-audit-1" }]]);
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
