/**
 * The semantics docs/filtering.md promises, case by case, on a fixed set of operations: each filter's
 * expected result is asserted for the reference evaluator and for both stores' SQL.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, toJson, type DescMessage } from "@bufbuild/protobuf";
import { buildFilterSchema, compileFilter, evaluate } from "../../src/filter/index.js";
import type { ListedOperation, StoredAny } from "../../src/store/store.js";
import { fixtureRegistry, JOB_URL, JobMetadataSchema, OTHER_URL, OtherMetadataSchema } from "./fixtures.js";
import { fill, listAll, openStorePair, T, type OperationPlan, type StorePair } from "./stores.js";

const schema = buildFilterSchema([JobMetadataSchema, OtherMetadataSchema]);
const S = BigInt(T / 1000); // T in seconds: 2023-11-14T22:13:20Z

function meta(type: DescMessage, url: string, init: Record<string, unknown>): StoredAny {
  const json = toJson(type, create(type, init as never), { registry: fixtureRegistry, useProtoFieldName: true, alwaysEmitImplicit: true });
  return { typeUrl: url, value: new Uint8Array([1]), json: JSON.stringify(json) };
}
const job = (init: Record<string, unknown>) => meta(JobMetadataSchema, JOB_URL, init);

const PLANS: OperationPlan[] = [
  {
    id: "q1",
    name: "operations/é-queued",
    method: "longrun.demo.v1.Demo.Sleep",
    createAt: 0,
    fate: "queued",
    claimed: false,
    metadata: job({
      progressPercent: 10,
      createTime: { seconds: S, nanos: 0 }, // "…:20Z"
      bytesDone: 2n ** 53n + 1n,
      stage: 4, // not a declared value
      ratio: NaN,
      elapsed: { seconds: -1n, nanos: -500_000_000 },
      tags: ["a", "b%"],
      items: [{ name: "x", count: 2 }],
    }),
  },
  {
    id: "r1",
    name: "operations/running",
    method: "longrun.demo.v1.Demo.Sleep",
    createAt: 1,
    fate: "running",
    claimed: true,
    metadata: job({}),
    progress: job({
      progressPercent: 60,
      createTime: { seconds: S, nanos: 100_000_000 }, // "…:20.100Z"
      bytesDone: 2n ** 53n,
      stage: 2,
      ratio: Infinity,
      elapsed: { seconds: 0n, nanos: -1 },
      inner: { label: "in", child: { label: "deep" } },
      items: [{ name: "y", seenTime: { seconds: S, nanos: 1 } }],
    }),
  },
  {
    id: "e1",
    name: "operations/zz-failed",
    method: "longrun.demo.v1.Demo.Fail",
    createAt: 2,
    fate: "error",
    claimed: true,
    metadata: meta(OtherMetadataSchema, OTHER_URL, { target: "t", stage: 2, tags: ["a"] }),
    finish: { atOffset: 0, error: { code: 5, message: "not found: x", status: new Uint8Array([8, 5]) } },
  },
  {
    id: "d1",
    name: "operations/😀-done",
    method: "x.Y.Z",
    createAt: 3,
    fate: "response",
    claimed: false,
    metadata: { typeUrl: JOB_URL, value: new Uint8Array([1]) }, // no JSON: as written before migration 2
    finish: { atOffset: 1, response: { typeUrl: "type.googleapis.com/google.protobuf.Empty", value: new Uint8Array() } },
  },
  {
    id: "n1",
    name: "operations/no-metadata",
    method: "x.Y.Z",
    createAt: 3,
    fate: "queued",
    claimed: false,
  },
];

/** [filter, the ids it selects, newest first: (create_time desc, id desc)] */
const CASES: [string, string[]][] = [
  // Instants against millisecond columns, exactly: ops were created at T+0 … T+3 ms.
  ['create_time >= "2023-11-14T22:13:20.001Z"', ["n1", "d1", "e1", "r1"]],
  ['create_time >= "2023-11-14T22:13:20.000000001Z"', ["n1", "d1", "e1", "r1"]],
  ['create_time > "2023-11-14T22:13:20.000999999Z"', ["n1", "d1", "e1", "r1"]],
  ['create_time <= "2023-11-14T22:13:20.000999999Z"', ["q1"]],
  ['create_time = "2023-11-14T22:13:20.0005Z"', []],
  ['create_time != "2023-11-14T22:13:20.0005Z"', ["n1", "d1", "e1", "r1", "q1"]],
  ['create_time = "2023-11-14T23:13:20.002+01:00"', ["e1"]],
  // Unset fields: unknown, so skipped by a restriction and by its negation alike (AIP-160).
  ['end_time != "2000-01-01T00:00:00Z"', ["d1", "e1"]],
  ['NOT end_time < "2000-01-01T00:00:00Z"', ["d1", "e1"]],
  ["NOT end_time:*", ["n1", "r1", "q1"]],
  ["error.code != 5", []],
  ["error.code = NOT_FOUND", ["e1"]],
  ["-error.code = 5", []],
  ["error.code = 5 OR done = false", ["n1", "e1", "r1", "q1"]],
  // d1 has no error: unknown AND true is unknown, and so is its negation.
  ["NOT (error.code = 5 AND done = true)", ["n1", "r1", "q1"]],
  ['error.message = "not found*"', ["e1"]],
  ["done = true", ["d1", "e1"]],
  ["done:*", ["d1", "e1"]],
  // Metadata timestamps stored with 0, 3 and 9 fractional digits compare as instants.
  ['metadata.create_time < "2023-11-14T22:13:20.1Z"', ["q1"]],
  ['metadata.create_time >= "2023-11-14T22:13:20.099999999Z"', ["r1"]],
  ['metadata.create_time = "2023-11-14T23:13:20.100+01:00"', ["r1"]],
  ['metadata.items.seen_time:"2023-11-14T22:13:20.000000001Z"', ["r1"]],
  // Durations, negative ones included.
  ["metadata.elapsed < -1s", ["q1"]],
  ["metadata.elapsed > -0.000000002s", ["r1"]],
  ["metadata.elapsed = -0.000000001s", ["r1"]],
  // int64 beyond 2^53, exactly.
  ["metadata.bytes_done = 9007199254740993", ["q1"]],
  ["metadata.bytes_done < 9007199254740993", ["r1"]],
  // An enum value the descriptor does not declare equals no name.
  ["metadata.stage = RUNNING", ["r1"]],
  ["metadata.stage != RUNNING", ["q1"]],
  // NaN and Infinity have no value.
  ["metadata.ratio > 0", []],
  ["metadata.ratio != 0", []],
  ["metadata.ratio:*", []],
  // Presence of scalars means non-default; of messages, set.
  ["metadata.progress_percent:*", ["r1", "q1"]],
  ["metadata.inner:*", ["r1"]],
  ["NOT metadata.inner:*", ["n1", "d1", "e1", "q1"]],
  ["metadata.inner.child.label = deep", ["r1"]],
  ["metadata.inner.label != in", []],
  // Repeated fields: some element.
  ["metadata.tags:a", ["e1", "q1"]],
  ['metadata.tags:"*%"', ["q1"]],
  ["metadata.tags:*", ["e1", "q1"]],
  ["NOT metadata.tags:b", ["e1", "r1", "q1"]],
  ["metadata.items.name:y", ["r1"]],
  ["metadata.items.count:2", ["q1"]],
  ["metadata.items:*", ["r1", "q1"]],
  // A field typed from JobMetadata (enum) does not match OtherMetadata's int32 of the same name.
  ["metadata.stage:*", ["r1", "q1"]],
  ["metadata.target = t", ["e1"]],
  // Metadata without JSON: no metadata fields, but metadata itself and its type are known.
  ["metadata.progress_percent = 0", []],
  ["metadata:*", ["d1", "e1", "r1", "q1"]],
  ["metadata.@type = longrun.filtertest.v1.JobMetadata", ["d1", "r1", "q1"]],
  [`metadata.@type = "${OTHER_URL}"`, ["e1"]],
  ['metadata.@type = "*Metadata"', ["d1", "e1", "r1", "q1"]],
  ["response.@type = google.protobuf.Empty", ["d1"]],
  ["response:*", ["d1"]],
  // Strings in UTF-8 byte order: "é" and "😀" sort after every ASCII letter.
  ['name > "operations/z"', ["d1", "e1", "q1"]],
  ['name > "operations/é"', ["d1", "q1"]],
  ['name = "*done"', ["d1"]],
  ['method = "longrun.demo.*"', ["e1", "r1", "q1"]],
  ['method != "longrun.demo.*"', ["n1", "d1"]],
  ['method < "longrun.demo.v1.Demo.Sleep"', ["e1"]],
  // Precedence: OR binds tighter than AND.
  ["done = true AND error:* OR metadata.progress_percent = 60", ["e1"]],
  ["(done = true AND error:*) OR metadata.progress_percent = 60", ["e1", "r1"]],
];

describe("filter semantics, on the evaluator and both stores", () => {
  let pair: StorePair;
  let records: ListedOperation[];
  let json: Map<string, string | undefined>;

  before(async () => {
    pair = await openStorePair();
    for (const { store } of pair.stores) json = await fill(store, PLANS);
    records = await listAll(pair.stores[0]!.store, undefined);
    assert.deepEqual(
      records.map((r) => r.id),
      ["n1", "d1", "e1", "r1", "q1"],
    );
  });
  after(async () => {
    await pair?.close();
  });

  for (const [filter, expected] of CASES) {
    it(filter, async () => {
      const expr = compileFilter(filter, schema)!;
      const evaluated = records.filter((r) => {
        const metadata = json.get(r.id);
        return evaluate(expr, r, metadata === undefined ? undefined : JSON.parse(metadata));
      });
      assert.deepEqual(
        evaluated.map((r) => r.id),
        expected,
        "evaluator",
      );
      for (const { name, store } of pair.stores) {
        assert.deepEqual(
          (await listAll(store, expr, 2)).map((r) => r.id),
          expected,
          name,
        );
      }
    });
  }
});
