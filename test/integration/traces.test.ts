/**
 * OpenTelemetry traces of a real server (SQLite, in-process) into an in-memory exporter: a SERVER span per
 * RPC on both transports, the caller's `traceparent` honoured, and the handler's run a child of the start.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { context, trace, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { sleep } from "../../src/demo/sleep.js";
import { tracingConfigured } from "../../src/observability/tracing.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;
const SLEEP_SPAN = "longrun.demo.v1.Demo/Sleep";
const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A Sleep over gRPC with the given metadata. */
function sleepWithMetadata(address: string, metadata: Record<string, string>): Promise<string> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const body = Buffer.from(toBinary(Demo.method.sleep.input, create(Demo.method.sleep.input, { duration: durationFromMs(0) })));
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(`/longrun.demo.v1.Demo/Sleep`, (b: Buffer) => b, (b: Buffer) => b, body, md, (err, out) => {
      client.close();
      if (err || !out) reject(err ?? new Error("no answer"));
      else resolve(fromBinary(Demo.method.sleep.output, out).name);
    }),
  );
}

describe("traces", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let t: TestServer;
  /** The trace id active in the handler (through the API's context), and the span of ctx.traceContext. */
  const seenInHandler: { active?: string; given?: string }[] = [];
  before(async () => {
    const spy: typeof sleep = {
      ...sleep,
      handler: (request, ctx) => {
        seenInHandler.push({ active: trace.getSpan(context.active())?.spanContext().spanId, given: ctx.traceContext && trace.getSpan(ctx.traceContext)?.spanContext().spanId });
        return sleep.handler(request, ctx);
      },
    };
    t = await startTestServer({ methods: [spy], tracing: { tracerProvider: provider }, shutdownGraceMs: 100 });
  });
  after(async () => {
    await t.close();
    await provider.shutdown();
  });

  const spans = () => exporter.getFinishedSpans();
  const runOf = (name: string) => () => spans().find((s) => s.name === "run longrun.demo.v1.Demo.Sleep" && s.attributes["longrun.operation.name"] === name);
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  it("a start over gRPC: a SERVER span, and the handler's run a CONSUMER child of it, with ctx.traceContext active", async () => {
    exporter.reset();
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    const run = await until("the run span", runOf(op.name));
    const rpc = spans().find((s) => s.name === SLEEP_SPAN);
    assert.ok(rpc, "the RPC span");
    assert.equal(rpc.kind, SpanKind.SERVER);
    assert.deepEqual(
      [rpc.attributes["rpc.system"], rpc.attributes["rpc.service"], rpc.attributes["rpc.method"], rpc.attributes["rpc.grpc.status_code"], rpc.attributes["longrun.rpc.code"]],
      ["grpc", "longrun.demo.v1.Demo", "Sleep", 0, "OK"],
    );
    assert.equal(parentOf(rpc), undefined, "no traceparent sent: a new trace");
    assert.equal(run.kind, SpanKind.CONSUMER);
    assert.equal(run.spanContext().traceId, rpc.spanContext().traceId, "one trace");
    assert.equal(parentOf(run), rpc.spanContext().spanId, "the run is a child of the start's span");
    assert.deepEqual([run.attributes["longrun.attempt"], run.attributes["longrun.operation.code"], run.status.code], [1, "OK", SpanStatusCode.UNSET]);
    const seen = seenInHandler.at(-1)!;
    assert.equal(seen.given, run.spanContext().spanId, "ctx.traceContext holds the run span");
    assert.equal(seen.active, run.spanContext().spanId, "and it is the active context in the handler");
  });

  it("honours the caller's traceparent, on gRPC metadata and on HTTP headers", async () => {
    exporter.reset();
    const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
    const name = await sleepWithMetadata(t.server.grpcAddress!, { traceparent, tracestate: "congo=t61rcWkgMzE" });
    const run = await until("the run span", runOf(name));
    const rpc = spans().find((s) => s.name === SLEEP_SPAN)!;
    assert.equal(rpc.spanContext().traceId, CLIENT_TRACE);
    assert.equal(parentOf(rpc), CLIENT_SPAN, "the RPC span is the caller's span's child");
    assert.equal(run.spanContext().traceId, CLIENT_TRACE);
    assert.equal(run.spanContext().traceState?.get("congo"), "t61rcWkgMzE", "tracestate kept with the operation");

    exporter.reset();
    const response = await fetch(`${t.url}/v1/demo:sleep`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent },
      body: JSON.stringify({ duration: "0s" }),
    });
    assert.equal(response.status, 200);
    const restName = ((await response.json()) as { name: string }).name;
    const restRun = await until("the REST start's run span", runOf(restName));
    const restRpc = spans().find((s) => s.name === SLEEP_SPAN)!;
    assert.deepEqual([restRpc.attributes["rpc.system"], restRpc.attributes["longrun.rpc.code"], restRpc.attributes["rpc.grpc.status_code"]], ["http", "OK", undefined]);
    assert.equal(restRpc.spanContext().traceId, CLIENT_TRACE);
    assert.equal(restRun.spanContext().traceId, CLIENT_TRACE);
    assert.equal(parentOf(restRun), restRpc.spanContext().spanId);
  });

  it("records the code of failed RPCs and failed runs", async () => {
    exporter.reset();
    assert.equal((await callError(t.grpc.call(ops.getOperation, { name: "operations/nope" }))).code, Code.NOT_FOUND);
    const get = spans().find((s) => s.name === "google.longrunning.Operations/GetOperation")!;
    assert.deepEqual([get.attributes["rpc.grpc.status_code"], get.attributes["longrun.rpc.code"]], [Code.NOT_FOUND, "NOT_FOUND"]);
    assert.equal(get.status.code, SpanStatusCode.UNSET, "a client's error is not the server's");

    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0), failWith: { code: Code.FAILED_PRECONDITION, message: "no" } });
    const run = await until("the failed run", runOf(op.name));
    assert.deepEqual([run.attributes["longrun.operation.code"], run.status.code, run.status.message], ["FAILED_PRECONDITION", SpanStatusCode.ERROR, "no"]);
  });

  it("is on only when the OTEL_* variables ask for an OTLP exporter", () => {
    assert.equal(tracingConfigured({}), false);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" }), true);
    assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: "otlp" }), true);
    assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), false);
    assert.equal(tracingConfigured({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }), false);
  });
});

describe("traces off", () => {
  it("a server without tracing keeps no trace context with its operations", async () => {
    const dir = mkdtempSync(join(tmpdir(), "longrun-traces-"));
    const store = SqliteStore.open(join(dir, "longrun.db"));
    const t = await startTestServer({ store, shutdownGraceMs: 100 });
    try {
      const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
      const record = await store.get(op.name.slice("operations/".length), Date.now());
      assert.ok(record);
      assert.ok(!("traceContext" in record));
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
