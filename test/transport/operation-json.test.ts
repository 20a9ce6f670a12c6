import { it } from "node:test";
import assert from "node:assert/strict";
import { create, createRegistry, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, AnySchema, timestampFromMs, type Any } from "@bufbuild/protobuf/wkt";
import { OperationSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { OperationDetails_State, OperationDetailsSchema } from "../../src/gen/longrun/admin/v1/details_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { encodeResponse, ResponseEncoder, type ResponseFormat } from "../../src/transport/rest/json.js";
import { OperationJsonWriter } from "../../src/transport/rest/operation-json.js";

// The writer is a shortcut: its text must be encodeResponse's (toJson, "@type" first, JSON.stringify), byte for byte.
const registry = createRegistry(SleepMetadataSchema, SleepResponseSchema, OperationDetailsSchema, ErrorInfoSchema);
const FORMATS: ResponseFormat[] = [
  { enumAsInteger: false, pretty: true },
  { enumAsInteger: false, pretty: false },
  { enumAsInteger: true, pretty: true },
  { enumAsInteger: true, pretty: false },
];

function pack<D extends DescMessage>(schema: D, init: MessageShape<D>): Any {
  return anyPack(schema, init);
}

const details = pack(
  OperationDetailsSchema,
  create(OperationDetailsSchema, {
    name: 'operations/"quoted" \\ ü \u2028',
    state: OperationDetails_State.RUNNING,
    createTime: timestampFromMs(1_796_650_579_527),
    request: pack(SleepMetadataSchema, create(SleepMetadataSchema, { progressPercent: 5 })),
    lastFailure: { attempt: 2, error: { code: 14, message: "down\nand out", details: [pack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "R", domain: "d", metadata: { b: "2", a: "1" } }))] } },
  }),
);

const operations: Operation[] = [
  create(OperationSchema),
  create(OperationSchema, { name: "operations/a" }),
  create(OperationSchema, { done: true }),
  create(OperationSchema, { name: "operations/a", metadata: pack(SleepMetadataSchema, create(SleepMetadataSchema, { createTime: timestampFromMs(0) })) }),
  create(OperationSchema, { name: "operations/b", metadata: create(AnySchema), done: false }),
  create(OperationSchema, { name: "operations/c", metadata: create(AnySchema, { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepMetadata" }) }),
  create(OperationSchema, {
    name: "operations/d",
    metadata: pack(SleepMetadataSchema, create(SleepMetadataSchema, { createTime: timestampFromMs(1), endTime: timestampFromMs(2), progressPercent: 100 })),
    done: true,
    result: { case: "response", value: pack(SleepResponseSchema, create(SleepResponseSchema, { slept: { seconds: 3n, nanos: 500_000_000 } })) },
  }),
  create(OperationSchema, { name: "operations/e", done: true, result: { case: "response", value: create(AnySchema) } }),
  create(OperationSchema, { name: "operations/f", metadata: details, done: true, result: { case: "error", value: create(StatusSchema) } }),
  create(OperationSchema, {
    name: "projects/p/operations/\u0000\t",
    metadata: details,
    done: true,
    result: {
      case: "error",
      value: create(StatusSchema, { code: 5, message: "not\nfound", details: [pack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "X", metadata: { k: "v" } })), details] }),
    },
  }),
  create(OperationSchema, { name: "operations/g", done: true, result: { case: "response", value: details } }),
];

it("writes every operation as encodeResponse does, in every format, first time and from its cache", () => {
  const writer = new OperationJsonWriter(registry);
  for (const round of [1, 2]) {
    for (const operation of operations) {
      for (const format of FORMATS) {
        const expected = encodeResponse(OperationSchema, operation, undefined, registry, format);
        assert.equal(writer.write(operation, format.enumAsInteger, format.pretty), expected, `round ${round}, ${JSON.stringify(format)}: ${expected}`);
      }
    }
  }
});

it("fails as toJson does on an Any of a type the registry lacks, and caches nothing then", () => {
  const writer = new OperationJsonWriter(createRegistry());
  const operation = operations[3]!;
  assert.throws(() => encodeResponse(OperationSchema, operation, undefined, createRegistry(), FORMATS[0]!));
  assert.throws(() => writer.write(operation, false, true));
  assert.throws(() => writer.write(operation, false, true));
});

it("tells apart payloads that differ only in their bytes or type", () => {
  const writer = new OperationJsonWriter(registry);
  const metadata = (percent: number) => pack(SleepMetadataSchema, create(SleepMetadataSchema, { progressPercent: percent }));
  for (const percent of [1, 2, 1, 300, 2]) {
    const operation = create(OperationSchema, { name: "operations/x", metadata: metadata(percent) });
    assert.equal(writer.write(operation, false, false), `{"name":"operations/x","metadata":{"@type":"type.googleapis.com/longrun.demo.v1.SleepMetadata","progressPercent":${percent}}}`);
  }
  // The same bytes under another type are another payload.
  const bytes = toBinary(SleepMetadataSchema, create(SleepMetadataSchema, { progressPercent: 7 }));
  const asResponse = create(OperationSchema, { metadata: create(AnySchema, { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepResponse", value: bytes }) });
  assert.equal(writer.write(asResponse, false, false), encodeResponse(OperationSchema, asResponse, undefined, registry, FORMATS[1]!));
});

it("keeps its cache bounded and still answers right past it", () => {
  const writer = new OperationJsonWriter(registry);
  for (let i = 1; i <= 2_000; i++) {
    const operation = create(OperationSchema, { metadata: pack(SleepMetadataSchema, create(SleepMetadataSchema, { progressPercent: i })) });
    assert.equal(writer.write(operation, false, false), `{"metadata":{"@type":"type.googleapis.com/longrun.demo.v1.SleepMetadata","progressPercent":${i}}}`);
  }
  assert.ok((writer as unknown as { anys: Map<string, string> }).anys.size <= 512);
});

it("leaves an operation with unknown fields to toJson, and other messages too", () => {
  const writer = new OperationJsonWriter(registry);
  const operation = create(OperationSchema, { name: "operations/u" });
  operation.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
  assert.equal(writer.write(operation, false, false), undefined);
  const encoder = new ResponseEncoder(registry);
  assert.equal(encoder.encode(OperationSchema, operation, undefined, FORMATS[1]!), '{"name":"operations/u"}');
  const status = create(StatusSchema, { code: 3 });
  assert.equal(encoder.encode(StatusSchema, status, undefined, FORMATS[1]!), '{"code":3}');
});
