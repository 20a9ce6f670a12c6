/**
 * Protobuf decoding of gRPC requests, over the real gRPC server (one startServer with the demo on SQLite,
 * grpc-js over loopback). Each run sends bytes as they are to a method: random bytes, and valid requests
 * with bytes flipped, inserted, cut or appended (wrong wire types, truncated varints and lengths, unknown
 * fields, invalid UTF-8 in strings, huge lengths, deep nesting). Every answer is either OK with a message
 * that decodes, or a status other than INTERNAL, UNKNOWN and DATA_LOSS carrying a google.rpc.Status with an
 * ErrorInfo; the server logs nothing (it logs only failures that are bugs) and keeps serving.
 */
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { create, fromBinary, toBinary, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import type { CallError } from "../support/grpc-client.js";
import { checkAsync } from "./config.js";

/** Each run is a real call: `LONGRUN_FUZZ_RUNS` is scaled by this. */
const SHARE = 0.05;
const NEVER = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS]);

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t.close();
});

interface Target {
  method: DescMethod;
  valid: Uint8Array;
}

function target<I extends DescMessage>(method: DescMethod & { input: I }, init: Parameters<typeof create<I>>[1]): Target {
  return { method, valid: toBinary(method.input, create(method.input, init)) };
}

const targets: Target[] = [
  target(Demo.method.sleep, { duration: durationFromMs(1), requestId: "fuzz", failWith: { code: 5, message: "x" } }),
  target(Operations.method.getOperation, { name: "operations/abc" }),
  target(Operations.method.listOperations, { name: "operations", filter: "done = true", pageSize: 3, pageToken: "" }),
  target(Operations.method.waitOperation, { name: "operations/abc", timeout: durationFromMs(1) }),
  target(Operations.method.cancelOperation, { name: "operations/abc" }),
  target(Operations.method.deleteOperation, { name: "operations/abc" }),
];

/** An edit of a valid encoding. */
type Edit =
  | { kind: "flip"; at: number; value: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "cut"; at: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "field"; tag: number; payload: Uint8Array };

/** Edits of a valid encoding that reach deep into the decoder. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({
    kind: fc.constant("field" as const),
    // An arbitrary tag (field number and wire type) with a payload that may not match it.
    tag: fc.integer({ min: 0, max: 0xffff }),
    payload: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.constant(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]))),
  }),
);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function applyEdits(valid: Uint8Array, edits: readonly Edit[]): Buffer {
  let b = [...valid];
  for (const e of edits) {
    const at = "at" in e ? e.at % (b.length + 1) : 0;
    if (e.kind === "flip" && b.length > 0) b[at % b.length] = e.value;
    if (e.kind === "insert") b.splice(at, 0, ...e.bytes);
    if (e.kind === "cut") b = b.slice(0, at);
    if (e.kind === "append") b.push(...e.bytes);
    if (e.kind === "field") b.push(...varint(e.tag), ...e.payload);
  }
  return Buffer.from(b);
}

/** Nested length-delimited fields, deeper than any decoder should recurse without a limit. */
function deeplyNested(depth: number, field: number): Buffer {
  let inner: number[] = [];
  for (let i = 0; i < depth; i++) inner = [...varint((field << 3) | 2), ...varint(inner.length), ...inner];
  return Buffer.from(inner);
}

/** What a run sends to the target it drew: bytes of its own, or edits of the target's valid request. */
const body: fc.Arbitrary<Buffer | Edit[]> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 5 })).map(([depth, field]) => deeplyNested(depth, field)) },
  { weight: 4, arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }) },
);

async function call(method: DescMethod, bytes: Buffer): Promise<{ ok: Buffer } | { err: CallError }> {
  const path = `/${method.parent.typeName}/${method.name}`;
  try {
    return { ok: await t.grpc.raw(path, bytes, { deadlineMs: 5_000 }) };
  } catch (e) {
    return { err: e as CallError };
  }
}

it("random and mutated protobuf requests: OK with a decodable answer, or a non-INTERNAL status with an ErrorInfo", async () => {
  const before = t.logged.length;
  const counts = { sent: 0, ok: 0 };
  await checkAsync(
    fc.asyncProperty(fc.constantFrom(...targets), body, async ({ method, valid }, drawn) => {
      const bytes = Buffer.isBuffer(drawn) ? drawn : applyEdits(valid, drawn);
      counts.sent++;
      const answer = await call(method, bytes);
      if ("ok" in answer) {
        counts.ok++;
        assert.doesNotThrow(() => fromBinary(method.output, answer.ok), `${method.name}: OK with bytes that do not decode`);
        return;
      }
      const { err } = answer;
      const shown = `${method.name} ${bytes.toString("hex").slice(0, 120)} → ${grpc.status[err.code]} ${err.details}`;
      assert.ok(!NEVER.has(err.code), shown);
      assert.ok(err.errorInfo?.reason, `no ErrorInfo: ${shown}`);
      assert.equal(err.errorInfo?.domain, "longrun.dev", shown);
    }),
    1000,
    SHARE,
  );
  assert.deepEqual(t.logged.slice(before), [], "the server logged failures");
  // Mutations of valid requests are often still valid: both outcomes are exercised.
  assert.ok(counts.ok > 0 && counts.ok < counts.sent, `${counts.ok} of ${counts.sent} answered OK`);
  // Still serving.
  const listed = await call(Operations.method.listOperations, Buffer.from(targets[2]!.valid));
  assert.ok("ok" in listed);
});
