/** MetadataCodec's kept encodings (src/runtime/metadata.ts): the same bytes as encoding anew, never another time's. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { MetadataCodec } from "../../src/runtime/metadata.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

const codec = new MetadataCodec(SleepMetadataSchema, createRegistry(SleepMetadataSchema));
const T = Date.UTC(2026, 11, 7);

describe("MetadataCodec", () => {
  it("initialEncoded is encode(initial(now)), shared within a millisecond and made anew for the next", () => {
    const first = codec.initialEncoded(T);
    assert.deepEqual(first, codec.encode(codec.initial(T)));
    assert.equal(codec.initialEncoded(T), first);
    const next = codec.initialEncoded(T + 1);
    assert.deepEqual(next, codec.encode(codec.initial(T + 1)));
    assert.equal(timestampMs(fromBinary(SleepMetadataSchema, next.value).createTime!), T + 1);
  });

  it("finalEncoded is encode(final(decode(stored))) for each now, stored value and cancellation", () => {
    const stored = codec.encode(create(SleepMetadataSchema, { createTime: timestampFromMs(T), progressPercent: 40 }));
    const other = codec.encode(create(SleepMetadataSchema, { createTime: timestampFromMs(T), progressPercent: 41 }));
    for (const now of [T + 5, T + 5, T + 6]) {
      for (const [s, cancelled] of [[stored, false], [stored, true], [other, false]] as const) {
        const kept = codec.finalEncoded(s, now, cancelled);
        assert.deepEqual(kept, codec.encode(codec.final(codec.decode(s, 0), now, cancelled)), `${now} ${cancelled}`);
      }
    }
    assert.equal(codec.finalEncoded(stored, T + 6, false), codec.finalEncoded(stored, T + 6, false), "kept within the millisecond");
    const ended = fromBinary(SleepMetadataSchema, codec.finalEncoded(stored, T + 7, true)!.value);
    assert.equal(timestampMs(ended.endTime!), T + 7);
    assert.equal(ended.cancelRequested, true);
    assert.equal(ended.progressPercent, 40);
  });

  it("finalEncoded gives nothing for metadata of another type or none: the caller decodes as before", () => {
    assert.equal(codec.finalEncoded(undefined, T, false), undefined);
    const foreign = { typeUrl: "type.googleapis.com/other.Metadata", value: toBinary(SleepMetadataSchema, create(SleepMetadataSchema)) };
    assert.equal(codec.finalEncoded(foreign, T, false), undefined);
  });
});
