/**
 * Traces across processes: two `longrun serve` processes on one PostgreSQL schema, A serving RPCs only
 * (`--no-worker`), B running the handlers, both exporting spans by OTLP/HTTP (JSON) to a receiver in this
 * test, configured by the standard OTEL_* variables alone. The handler's run on B is in the trace of the
 * start on A — the caller's trace — as the child of A's RPC span, through the context stored with the operation.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

const CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN = "b7ad6b7169203331";

interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
}

/** OTLP/JSON ids are hex (the spec's JSON mapping); base64 is accepted too. */
function hexId(id: string | undefined): string {
  if (id === undefined || id === "") return "";
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
const valueOf = (v: AnyValue): unknown => v.stringValue ?? (v.intValue === undefined ? v.boolValue : Number(v.intValue));
const attributesOf = (list: KeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

/** A tiny OTLP/HTTP receiver: every span posted to /v1/traces as JSON. */
async function startReceiver(): Promise<{ url: string; spans: ExportedSpan[]; close(): Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces" && String(req.headers["content-type"]).includes("json")) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string; attributes?: KeyValue[] }[] }[] }[];
        };
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attributesOf(rs.resource?.attributes)["service.name"]);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({ service, name: s.name, traceId: hexId(s.traceId), spanId: hexId(s.spanId), parentSpanId: hexId(s.parentSpanId), attributes: attributesOf(s.attributes) });
            }
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function until<T>(what: string, find: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("traces across two server processes on PostgreSQL", () => {
  let db: TestSchema;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;

  before(async () => {
    db = await freshSchema("lr_traces");
    receiver = await startReceiver();
    const env = (service: string) => ({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: service,
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    const store = ["--demo", "--store", db.url, "--schema", db.schema];
    a = await spawnServer([...store, "--no-worker"], env("longrun-a"));
    b = await spawnServer(store, env("longrun-b"));
  });
  after(async () => {
    for (const p of [a, b]) {
      if (p && p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill("SIGTERM");
        await p.exited;
      }
    }
    await receiver?.close();
    await db?.drop();
  });

  it("the run on B is the child of the start's RPC span on A, in the caller's trace", { timeout: 60_000 }, async () => {
    const client = new grpc.Client(a!.grpcAddress, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set("traceparent", `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`);
    const body = Buffer.from(toBinary(Demo.method.sleep.input, create(Demo.method.sleep.input, { duration: durationFromMs(50) })));
    const name = await new Promise<string>((resolve, reject) =>
      client.makeUnaryRequest("/longrun.demo.v1.Demo/Sleep", (x: Buffer) => x, (x: Buffer) => x, body, md, (err, out) => {
        client.close();
        if (err || !out) reject(err ?? new Error("no answer"));
        else resolve(fromBinary(Demo.method.sleep.output, out).name);
      }),
    );
    const onA = new TestGrpcClient(a!.grpcAddress);
    try {
      const done = await onA.call(Operations.method.waitOperation, { name, timeout: durationFromMs(20_000) });
      assert.equal(done.done, true);
      assert.equal(done.result.case, "response");
    } finally {
      onA.close();
    }

    const run = await until("B's run span", () => receiver.spans.find((s) => s.name === "run longrun.demo.v1.Demo.Sleep" && s.attributes["longrun.operation.name"] === name));
    const start = await until("A's Sleep span", () => receiver.spans.find((s) => s.name === "longrun.demo.v1.Demo/Sleep" && s.traceId === CLIENT_TRACE));
    assert.equal(start.service, "longrun-a", "the start was served by A");
    assert.equal(start.parentSpanId, CLIENT_SPAN, "A honoured the caller's traceparent");
    assert.equal(start.attributes["rpc.system"], "grpc");
    assert.equal(run.service, "longrun-b", "the handler ran on B (A runs none)");
    assert.equal(run.traceId, CLIENT_TRACE, "in the caller's trace");
    assert.equal(run.parentSpanId, start.spanId, "a child of A's RPC span, through the stored context");
    assert.deepEqual([run.attributes["longrun.attempt"], run.attributes["longrun.operation.code"]], [1, "OK"]);
    assert.ok(!receiver.spans.some((s) => s.service === "longrun-a" && s.name.startsWith("run ")), "A ran nothing");

    const stored = await db.admin.query(`SELECT trace_context FROM "${db.schema}".operations WHERE name = $1`, [name]);
    assert.equal((JSON.parse(stored.rows[0].trace_context as string) as { traceparent: string }).traceparent, `00-${CLIENT_TRACE}-${start.spanId}-01`);
  });
});
