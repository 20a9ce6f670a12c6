/**
 * Span batching and the OTLP export in a worker thread (src/observability/span-thread.ts, otlp-thread.js):
 * spans reach a real OTLP/HTTP receiver on loopback, in JSON and in protobuf, whole — ids, parent, trace
 * state, kind, times, attributes of every type, events, links, status, resource and scope — with the headers
 * OTEL_* asks for, in batches of OTEL_BSP_MAX_EXPORT_BATCH_SIZE; a shutdown delivers every span still held,
 * a failed export is reported, and a `longrun serve` stopped by SIGTERM delivers its spans.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type SpanContext } from "@opentelemetry/api";
import { setGlobalErrorHandler, TraceState } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { spanBatchSettings } from "../../src/observability/span-batch-settings.js";
import { ThreadSpanProcessor } from "../../src/observability/span-thread.js";
import { TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer } from "../support/process.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";

/** A span as the receiver got it, JSON or protobuf alike (ids in hex, times in ns). */
interface ReceivedSpan {
  service: unknown;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; traceState: string; attributes: Record<string, unknown> }[];
  status: { code: number; message: string };
}

interface Received {
  contentType: string;
  headers: http.IncomingHttpHeaders;
  spans: ReceivedSpan[];
}

// --- OTLP protobuf, read by field number (opentelemetry-proto's trace.proto and common.proto) ---
type Fields = Map<number, unknown[]>;
function fields(bytes: Uint8Array): Fields {
  const reader = new BinaryReader(bytes);
  const out: Fields = new Map();
  while (reader.pos < reader.len) {
    const [no, type] = reader.tag();
    const value =
      type === WireType.LengthDelimited ? reader.bytes() : type === WireType.Varint ? reader.uint64() : type === WireType.Bit64 ? reader.fixed64() : type === WireType.Bit32 ? reader.fixed32() : reader.skip(type);
    out.set(no, [...(out.get(no) ?? []), value]);
  }
  return out;
}
const all = (f: Fields, no: number) => (f.get(no) ?? []) as Uint8Array[];
const one = (f: Fields, no: number) => f.get(no)?.[0];
const text = (f: Fields, no: number) => new TextDecoder().decode((one(f, no) as Uint8Array | undefined) ?? new Uint8Array());
const hex = (f: Fields, no: number) => Buffer.from((one(f, no) as Uint8Array | undefined) ?? []).toString("hex");
function protoValue(bytes: Uint8Array): unknown {
  const f = fields(bytes);
  if (f.has(1)) return text(f, 1);
  if (f.has(2)) return BigInt(one(f, 2) as bigint) === 1n;
  if (f.has(3)) return Number(BigInt.asIntN(64, BigInt(one(f, 3) as bigint)));
  if (f.has(4)) return new Float64Array(new BigUint64Array([BigInt(one(f, 4) as bigint)]).buffer)[0];
  if (f.has(5)) return all(fields(one(f, 5) as Uint8Array), 1).map(protoValue);
  return undefined;
}
const protoAttributes = (list: Uint8Array[]) => Object.fromEntries(list.map((kv) => fields(kv)).map((kv) => [text(kv, 1), protoValue(one(kv, 2) as Uint8Array)]));
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(fields(body), 1).map(fields)) {
    const service = protoAttributes(all(fields((one(rs, 1) as Uint8Array | undefined) ?? new Uint8Array()), 1))["service.name"];
    for (const ss of all(rs, 2).map(fields)) {
      const scope = text(fields((one(ss, 1) as Uint8Array | undefined) ?? new Uint8Array()), 1);
      for (const s of all(ss, 2).map(fields)) {
        const status = fields((one(s, 15) as Uint8Array | undefined) ?? new Uint8Array());
        spans.push({
          service,
          scope,
          traceId: hex(s, 1),
          spanId: hex(s, 2),
          traceState: text(s, 3),
          parentSpanId: hex(s, 4),
          name: text(s, 5),
          kind: Number(one(s, 6) ?? 0),
          start: BigInt(one(s, 7) as bigint),
          end: BigInt(one(s, 8) as bigint),
          attributes: protoAttributes(all(s, 9)),
          events: all(s, 11).map(fields).map((e) => ({ name: text(e, 2), attributes: protoAttributes(all(e, 3)) })),
          links: all(s, 13).map(fields).map((l) => ({ traceId: hex(l, 1), spanId: hex(l, 2), traceState: text(l, 3), attributes: protoAttributes(all(l, 4)) })),
          status: { code: Number(one(status, 3) ?? 0), message: text(status, 2) },
        });
      }
    }
  }
  return spans;
}

// --- OTLP JSON (ids hex, 64-bit numbers as numbers or strings) ---
type JsonValue = { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values?: JsonValue[] } };
type JsonKeyValue = { key: string; value: JsonValue };
const jsonValue = (v: JsonValue): unknown =>
  v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue ?? (v.arrayValue ? (v.arrayValue.values ?? []).map(jsonValue) : undefined));
const jsonAttributes = (list: JsonKeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
interface JsonSpan {
  traceId: string; spanId: string; parentSpanId?: string; traceState?: string; name: string; kind?: number;
  startTimeUnixNano: string | number; endTimeUnixNano: string | number; attributes?: JsonKeyValue[];
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  links?: { traceId: string; spanId: string; traceState?: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
}
function fromJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString()) as { resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[] }[] };
  const spans: ReceivedSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          service: jsonAttributes(rs.resource?.attributes)["service.name"],
          scope: ss.scope?.name ?? "",
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          traceState: s.traceState ?? "",
          name: s.name,
          kind: s.kind ?? 0,
          start: BigInt(s.startTimeUnixNano),
          end: BigInt(s.endTimeUnixNano),
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
          links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState ?? "", attributes: jsonAttributes(l.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
        });
      }
    }
  }
  return spans;
}

/** An OTLP/HTTP receiver on loopback: every export request to /v1/traces, decoded. */
async function startReceiver(): Promise<{ url: string; received: Received[]; spans(): ReceivedSpan[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const contentType = String(req.headers["content-type"]);
      const body = Buffer.concat(chunks);
      if (req.url === "/v1/traces") received.push({ contentType, headers: req.headers, spans: contentType.includes("json") ? fromJson(body) : fromProtobuf(body) });
      res.writeHead(200, { "content-type": contentType }).end(contentType.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    spans: () => received.flatMap((r) => r.spans),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const REMOTE: SpanContext = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
};
const LINKED: SpanContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED, traceState: new TraceState("k=v") };

describe("OTLP export in a worker thread", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  for (const protocol of ["http/json", "http/protobuf"]) {
    it(`delivers whole spans as ${protocol}, the batch still in hand at shutdown included`, async () => {
      receiver.received.length = 0;
      const env = {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=blue,authorization=Bearer%20abc",
      };
      // A schedule longer than the test: the spans left over from full batches leave only because the provider shuts down.
      const batch = spanBatchSettings({ OTEL_BSP_SCHEDULE_DELAY: "600000", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "100" });
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ "service.name": `svc-${protocol}` }),
        spanProcessors: [new ThreadSpanProcessor({ protocol, env, batch })],
      });
      const tracer = provider.getTracer("otlp-thread-test", "1.2.3");
      const parent = tracer.startSpan("parent", { kind: SpanKind.SERVER, attributes: { s: "text", i: 42, d: 1.5, b: true, list: ["a", "b"] } }, trace.setSpanContext(ROOT_CONTEXT, REMOTE));
      const child = tracer.startSpan("child", { kind: SpanKind.CONSUMER, links: [{ context: LINKED, attributes: { why: "retry" } }] }, trace.setSpan(context.active(), parent));
      child.addEvent("progress", { percent: 50 });
      child.setStatus({ code: SpanStatusCode.ERROR, message: "it failed" });
      child.end();
      parent.end();
      // 250 more: 252 spans, three export requests of 100, 100 and 52.
      for (let i = 0; i < 250; i++) tracer.startSpan(`bulk ${i}`).end();
      await provider.shutdown();

      const spans = receiver.spans();
      assert.equal(spans.length, 252, "every span delivered by the time shutdown resolves");
      assert.deepEqual(receiver.received.map((r) => r.spans.length).sort((a, b) => b - a), [100, 100, 52], "batches of OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
      for (const r of receiver.received) {
        assert.match(r.contentType, protocol === "http/json" ? /application\/json/ : /application\/x-protobuf/);
        assert.equal(r.headers["x-tenant"], "blue", "OTEL_EXPORTER_OTLP_HEADERS honoured in the thread");
        assert.equal(r.headers["authorization"], "Bearer abc");
      }
      const p = spans.find((s) => s.name === "parent")!;
      const c = spans.find((s) => s.name === "child")!;
      assert.deepEqual([p.service, p.scope, p.traceId, p.parentSpanId, p.traceState, p.kind], [`svc-${protocol}`, "otlp-thread-test", REMOTE.traceId, REMOTE.spanId, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", 2]);
      assert.equal(p.spanId, parent.spanContext().spanId);
      assert.deepEqual(p.attributes, { s: "text", i: 42, d: 1.5, b: true, list: ["a", "b"] });
      assert.ok(p.start > 1_700_000_000_000_000_000n && p.end >= p.start, "times in ns since the epoch");
      assert.deepEqual([c.traceId, c.parentSpanId, c.kind], [REMOTE.traceId, p.spanId, 5]);
      assert.deepEqual(c.events, [{ name: "progress", attributes: { percent: 50 } }]);
      assert.deepEqual(c.links, [{ traceId: LINKED.traceId, spanId: LINKED.spanId, traceState: "k=v", attributes: { why: "retry" } }]);
      assert.deepEqual(c.status, { code: SpanStatusCode.ERROR, message: "it failed" });
      const bulk = spans.filter((s) => s.name.startsWith("bulk "));
      assert.equal(new Set(bulk.map((s) => s.name)).size, 250);
      assert.ok(bulk.every((s) => s.parentSpanId === "" && s.traceId !== REMOTE.traceId && s.traceState === ""), "root spans: no parent, a trace of their own");
    });
  }

  for (const protocol of ["http/json", "http/protobuf"]) {
    it(`exports as ${protocol} what the SDK's own batch processor and exporter do, span for span`, async () => {
      const reference = await startReceiver();
      receiver.received.length = 0;
      try {
        const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` };
        const url = `${reference.url}/v1/traces`;
        const provider = new BasicTracerProvider({
          resource: resourceFromAttributes({ "service.name": "twins" }),
          spanProcessors: [
            new ThreadSpanProcessor({ protocol, env, batch: spanBatchSettings({}) }),
            new BatchSpanProcessor(protocol === "http/json" ? new OtlpJsonExporter({ url }) : new OtlpProtobufExporter({ url })),
          ],
        });
        const tracer = provider.getTracer("twins", "0.1.0");
        const odd = ["", ":", "12:ab", "~", "ünïcødé 🚀", "line\nbreak", "-1", "a".repeat(300)];
        const remote = trace.setSpanContext(ROOT_CONTEXT, REMOTE);
        for (let i = 0; i < 600; i++) {
          const text = odd[i % odd.length]!;
          const span = tracer.startSpan(`${text} span ${i}`, { kind: (i % 5) as SpanKind }, i % 3 === 0 ? remote : ROOT_CONTEXT);
          span.setAttribute(text === "" ? "empty value" : text, text);
          span.setAttributes({ int: i, negative: -i, float: i / 7, big: 2 ** 53 + i, tiny: 1e-300, flag: i % 2 === 0, other: i % 2 === 1 });
          // Every so often a span the columns do not hold: an array value, an event, a link.
          if (i % 50 === 1) span.setAttribute("list", [text, "x"]);
          if (i % 70 === 2) span.addEvent("step", { at: i });
          if (i % 90 === 3) span.addLink({ context: LINKED, attributes: { why: text } });
          if (i % 4 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: text });
          else if (i % 4 === 1) span.setStatus({ code: SpanStatusCode.OK });
          span.end();
        }
        await provider.shutdown();
        const bySpanId = (spans: ReceivedSpan[]) => [...spans].sort((a, b) => a.spanId.localeCompare(b.spanId));
        const got = bySpanId(receiver.spans());
        assert.equal(got.length, 600);
        assert.deepEqual(got, bySpanId(reference.spans()));
      } finally {
        await reference.close();
      }
    });
  }

  it("reports a failed export (nothing listening) to OpenTelemetry's error handler; a flush and a shutdown still end", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const errors: unknown[] = [];
    setGlobalErrorHandler((err) => errors.push(err));
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2000" };
    const provider = new BasicTracerProvider({ spanProcessors: [new ThreadSpanProcessor({ protocol: "http/protobuf", env, batch: spanBatchSettings({}) })] });
    provider.getTracer("t").startSpan("lost").end();
    await provider.forceFlush();
    await provider.shutdown();
    assert.ok(errors.some((e) => e instanceof Error && e.message.startsWith("OTLP span export:")), String(errors));
  });

  it("drops spans past OTEL_BSP_MAX_QUEUE_SIZE while an export is in hand, and says so", async () => {
    receiver.received.length = 0;
    const errors: unknown[] = [];
    setGlobalErrorHandler((err) => errors.push(err));
    const env = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` };
    const batch = spanBatchSettings({ OTEL_BSP_MAX_QUEUE_SIZE: "5", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "5", OTEL_BSP_SCHEDULE_DELAY: "600000" });
    const provider = new BasicTracerProvider({ spanProcessors: [new ThreadSpanProcessor({ protocol: "http/protobuf", env, batch })] });
    for (let i = 0; i < 500; i++) provider.getTracer("t").startSpan(`s${i}`).end();
    await provider.shutdown();
    const delivered = receiver.spans().length;
    assert.ok(delivered >= 5 && delivered < 500, `${delivered} delivered`);
    assert.ok(receiver.received.every((r) => r.spans.length <= 5));
    assert.ok(errors.some((e) => e instanceof Error && e.message.includes("OTEL_BSP_MAX_QUEUE_SIZE")), String(errors));
  });

  it("a `longrun serve` stopped by SIGTERM delivers the spans it still held (protobuf, the default)", { timeout: 60_000 }, async () => {
    receiver.received.length = 0;
    const server = await spawnServer(["--demo"], {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_SERVICE_NAME: "longrun-sigterm",
      OTEL_BSP_SCHEDULE_DELAY: "600000",
    });
    const client = new TestGrpcClient(server.grpcAddress);
    let name: string;
    try {
      name = (await client.call(Demo.method.sleep, { duration: durationFromMs(0) })).name;
      assert.equal((await client.call(Operations.method.waitOperation, { name, timeout: durationFromMs(20_000) })).done, true);
    } finally {
      client.close();
    }
    assert.equal(receiver.received.length, 0, "held by the batch processor until shutdown");
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    const spans = receiver.spans();
    assert.ok(receiver.received.every((r) => r.contentType.includes("protobuf")));
    const start = spans.find((s) => s.name === "longrun.demo.v1.Demo/Sleep");
    const run = spans.find((s) => s.name === "run longrun.demo.v1.Demo.Sleep" && s.attributes["longrun.operation.name"] === name);
    assert.ok(start && run, `the start's and the run's spans: ${spans.map((s) => s.name).join(", ")}`);
    assert.equal(start.service, "longrun-sigterm");
    assert.equal(run.parentSpanId, start.spanId);
  });
});
