/**
 * The property: for random operations (random state, error, times, methods, names, metadata of several
 * types with unset fields, or none) and random filters written from the grammar, what each store lists
 * (through its SQL, paged by the keyset cursor) is exactly what the reference evaluator selects, in the
 * stores' order. Runs on a real SQLite file and a real PostgreSQL schema.
 */
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, toJson, type DescMessage } from "@bufbuild/protobuf";
import { buildFilterSchema, compileFilter, evaluate } from "../../src/filter/index.js";
import type { StoredAny } from "../../src/store/store.js";
import { fixtureRegistry, JOB_URL, JobMetadataSchema, OTHER_URL, OtherMetadataSchema } from "./fixtures.js";
import { fill, listAll, openStorePair, T, type OperationPlan, type StorePair } from "./stores.js";

const RUNS = Number(process.env.LONGRUN_FILTER_RUNS ?? 150);
const schema = buildFilterSchema([JobMetadataSchema, OtherMetadataSchema]);

// --- Pools shared by operations and filters, so that filters hit. ---

const STRINGS = ["", "a", "ab", "abc", "b", "B", "a%", "%", "_x", "a_b", "*", "x'y", 'q"', "\\", "é", "😀", "zz"];
const METHODS = ["longrun.demo.v1.Demo.Sleep", "longrun.demo.v1.Demo.Fail", "x.Y_%.Z"];
const UNKNOWN_URL = "type.googleapis.com/other.pkg.Unknown";
const RESPONSE_URLS = ["type.googleapis.com/longrun.demo.v1.SleepResponse", "type.googleapis.com/google.protobuf.Empty"];
const STAGES = ["STAGE_UNSPECIFIED", "QUEUED", "RUNNING", "DONE"];
const INT64S = [0n, 1n, -1n, 42n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)];
const FLOATS = [0, 0.5, -1.25, 3, 1e-7, 1e20, NaN, Infinity];
/** Seconds near T, and sub-second parts that make 0, 3, 6 and 9 fractional digits. */
const BASE_SECONDS = BigInt(T / 1000);
const NANOS = [0, 1, 999, 1_000, 500_000, 1_000_000, 123_000_000, 999_999_999];

const str = fc.constantFrom(...STRINGS);
const timestamp = fc.record({ seconds: fc.integer({ min: -2, max: 2 }).map((d) => BASE_SECONDS + BigInt(d)), nanos: fc.constantFrom(...NANOS) });
const duration = fc
  .record({ seconds: fc.integer({ min: -2, max: 2 }), nanos: fc.constantFrom(...NANOS) })
  .map(({ seconds, nanos }) => ({ seconds: BigInt(seconds), nanos: seconds < 0 ? -nanos : seconds === 0 && nanos > 0 && nanos % 2 === 1 ? -nanos : nanos }));
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

const inner: fc.Memo<Record<string, unknown>> = fc.memo((depth) =>
  fc.record(
    { label: str, seenTime: opt(timestamp), child: depth > 1 ? opt(inner(depth - 1)) : fc.constant(undefined) },
    { requiredKeys: [] },
  ),
);
const item = fc.record({ name: str, count: fc.integer({ min: -2, max: 3 }), stage: fc.integer({ min: 0, max: 3 }), seenTime: opt(timestamp) }, { requiredKeys: [] });

const jobMetadata = fc.record(
  {
    createTime: opt(timestamp),
    endTime: opt(timestamp),
    progressPercent: fc.integer({ min: -1, max: 100 }),
    cancelRequested: fc.boolean(),
    target: str,
    bytesDone: fc.constantFrom(...INT64S),
    shards: fc.constantFrom(0, 1, 7, 4294967295),
    ratio: fc.constantFrom(...FLOATS),
    stage: fc.integer({ min: 0, max: 4 }), // 4: a value the enum does not declare
    elapsed: opt(duration),
    tags: fc.array(str, { maxLength: 3 }),
    items: fc.array(item, { maxLength: 3 }),
    inner: opt(inner(3)),
    note: opt(str),
    retries: opt(fc.integer({ min: 0, max: 3 })),
    sizes: fc.array(fc.constantFrom(...INT64S), { maxLength: 3 }),
  },
  { requiredKeys: [] },
);
const otherMetadata = fc.record({ target: str, stage: fc.integer({ min: 0, max: 3 }), tags: fc.array(str, { maxLength: 2 }) }, { requiredKeys: [] });

function stored(schema: DescMessage, typeUrl: string, init: Record<string, unknown>): StoredAny {
  const message = create(schema, init as never);
  const json = toJson(schema, message, { registry: fixtureRegistry, useProtoFieldName: true, alwaysEmitImplicit: true });
  return { typeUrl, value: new Uint8Array([1]), json: JSON.stringify(json) };
}

const metadata: fc.Arbitrary<StoredAny | undefined> = fc.oneof(
  { weight: 5, arbitrary: jobMetadata.map((m) => stored(JobMetadataSchema, JOB_URL, m)) },
  { weight: 2, arbitrary: otherMetadata.map((m) => stored(OtherMetadataSchema, OTHER_URL, m)) },
  // A type this server does not serve, and metadata stored without JSON (as before migration 2).
  { weight: 1, arbitrary: fc.constant({ typeUrl: UNKNOWN_URL, value: new Uint8Array([1]), json: JSON.stringify({ target: "a", progress_percent: 50 }) }) },
  { weight: 1, arbitrary: fc.constant({ typeUrl: JOB_URL, value: new Uint8Array([1]) }) },
  { weight: 2, arbitrary: fc.constant(undefined) },
);

const plan = (id: string): fc.Arbitrary<OperationPlan> =>
  fc
    .record({
      name: str.map((s) => `operations/${s}`),
      method: fc.constantFrom(...METHODS),
      createAt: fc.integer({ min: 0, max: 3 }),
      metadata,
      fate: fc.constantFrom("queued", "running", "response", "error"),
      claimed: fc.boolean(),
      progress: metadata,
      finishAt: fc.integer({ min: 0, max: 2 }),
      finishMetadata: opt(metadata),
      errorCode: fc.integer({ min: 1, max: 16 }),
      errorMessage: str,
      responseUrl: fc.constantFrom(...RESPONSE_URLS),
    })
    .map((r): OperationPlan => {
      const claimed = r.fate === "running" || (r.fate !== "queued" && r.claimed);
      const done = r.fate === "response" || r.fate === "error";
      return {
        id,
        name: r.name,
        method: r.method,
        createAt: r.createAt,
        metadata: r.metadata,
        fate: r.fate,
        claimed,
        progress: claimed ? r.progress : undefined,
        finish: done
          ? {
              atOffset: r.finishAt,
              metadata: r.finishMetadata,
              error: r.fate === "error" ? { code: r.errorCode, message: r.errorMessage, status: new Uint8Array([8, r.errorCode]) } : undefined,
              response: r.fate === "response" ? { typeUrl: r.responseUrl, value: new Uint8Array() } : undefined,
            }
          : undefined,
      };
    });

const plans = fc.integer({ min: 1, max: 16 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => plan(`op${String(i).padStart(2, "0")}`))));

// --- Filters, written as text from the grammar. ---

/** A quoted string literal; `*` escaped unless it is a wildcard. */
function quoted(s: string, wildcard: "" | "prefix" | "suffix" | "contains" = ""): string {
  const body = s.replace(/[\\"*]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
  const open = wildcard === "suffix" || wildcard === "contains" ? "*" : "";
  const close = wildcard === "prefix" || wildcard === "contains" ? "*" : "";
  return `"${open}${body}${close}"`;
}

const ALL_OPS = ["=", "!=", "<", "<=", ">", ">="] as const;
const allOps = fc.constantFrom(...ALL_OPS);
const eqOps = fc.constantFrom("=", "!=", ":");

const stringTest = (path: string, values: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.tuple(allOps, values).map(([op, v]) => `${path} ${op} ${quoted(v)}`),
    fc.tuple(fc.constantFrom("=", "!="), values, fc.constantFrom("prefix", "suffix", "contains") as fc.Arbitrary<"prefix" | "suffix" | "contains">).map(
      ([op, v, w]) => `${path} ${op} ${quoted(v, w)}`,
    ),
  );
const rfc3339 = timestamp.map(({ seconds, nanos }) => {
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${String(nanos).padStart(9, "0")}Z`;
});
/** Instants around T, often exactly at the times operations get, in ms and sub-ms steps, in any offset form. */
const instant = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 3, 100, 101, 200, 201, 202) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 215 }) }),
    fc.constantFrom(0, 1, 500_000, 999_999),
    fc.constantFrom("Z", "+01:00", "-04:30"),
  )
  .map(([ms, ns, zone]) => {
    const d = new Date(T + ms + (zone === "Z" ? 0 : zone === "+01:00" ? 3_600_000 : -16_200_000));
    return `"${d.toISOString().slice(0, 23)}${String(ns).padStart(6, "0")}${zone}"`;
  });
const durationText = duration.map(({ seconds, nanos }) => {
  const total = seconds * 1_000_000_000n + BigInt(nanos);
  const sign = total < 0n ? "-" : "";
  const abs = total < 0n ? -total : total;
  return `${sign}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, "0")}s`;
});

const fixedRestriction: fc.Arbitrary<string> = fc.oneof(
  stringTest("name", str.map((s) => `operations/${s}`)),
  stringTest("name", str),
  stringTest("method", fc.constantFrom(...METHODS, "longrun.demo.v1.Demo.", "x.Y_")),
  fc.tuple(fc.constantFrom("=", "!="), fc.boolean()).map(([op, b]) => `done ${op} ${b}`),
  fc.tuple(fc.constantFrom("create_time", "update_time", "end_time"), allOps, instant).map(([f, op, v]) => `${f} ${op} ${v}`),
  fc.tuple(fc.constantFrom("create_time", "update_time", "end_time"), allOps, instant).map(([f, op, v]) => `${f} ${op} ${v}`),
  fc.tuple(allOps, fc.integer({ min: 0, max: 17 })).map(([op, v]) => `error.code ${op} ${v}`),
  fc.constantFrom("error.code = CANCELLED", "error.code != INTERNAL"),
  stringTest("error.message", str),
  fc.constantFrom("error:*", "metadata:*", "response:*", "end_time:*", "error.code:*", "error.message:*", "done:*", "name:*", "create_time:*"),
);

const metadataRestriction: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(eqOps, fc.constantFrom("longrun.filtertest.v1.JobMetadata", "other.pkg.Unknown", JOB_URL, "longrun.filtertest.v1.*", "*Metadata")).map(
    ([op, v]) => `metadata.@type ${op} ${v.endsWith("*") || v.startsWith("*") ? `"${v}"` : quoted(v)}`,
  ),
  fc.tuple(eqOps, fc.constantFrom("google.protobuf.Empty", ...RESPONSE_URLS, "*Response")).map(([op, v]) => `response.@type ${op} "${v}"`),
  fc.constantFrom("metadata.@type:*", "response.@type:*"),
  // Metadata fields of every type.
  fc.tuple(allOps, fc.integer({ min: -1, max: 101 })).map(([op, v]) => `metadata.progress_percent ${op} ${v}`),
  fc.tuple(eqOps, fc.boolean()).map(([op, b]) => `metadata.cancel_requested ${op} ${b}`),
  stringTest("metadata.target", str),
  fc.tuple(allOps, fc.constantFrom(...INT64S)).map(([op, v]) => `metadata.bytes_done ${op} ${v}`),
  fc.tuple(allOps, fc.constantFrom(0, 1, 7, 4294967295)).map(([op, v]) => `metadata.shards ${op} ${v}`),
  fc.tuple(allOps, fc.constantFrom(0, 0.5, -1.25, 3, 1e-7, 1e20, 2.5e-1)).map(([op, v]) => `metadata.ratio ${op} ${v}`),
  fc.tuple(eqOps, fc.constantFrom(...STAGES, "2")).map(([op, v]) => `metadata.stage ${op} ${v}`),
  fc.tuple(allOps, rfc3339, fc.constantFrom("create_time", "end_time", "inner.seen_time", "inner.child.seen_time")).map(
    ([op, v, f]) => `metadata.${f} ${op} "${v}"`,
  ),
  fc.tuple(allOps, durationText).map(([op, v]) => `metadata.elapsed ${op} ${v}`),
  fc.tuple(fc.constantFrom(...STRINGS), fc.constantFrom("", "prefix", "suffix", "contains") as fc.Arbitrary<"" | "prefix">).map(([v, w]) => `metadata.tags:${quoted(v, w)}`),
  fc.tuple(fc.constantFrom("name", "count", "stage", "seen_time"), fc.constantFrom("a", "", "1", "0", "RUNNING", "*")).map(([f, v]) => {
    if (v === "*") return `metadata.items.${f}:*`;
    if (f === "count") return `metadata.items.count:${/^\d$/.test(v) ? v : "2"}`;
    if (f === "stage") return `metadata.items.stage:${/^[A-Z]/.test(v) ? v : "QUEUED"}`;
    if (f === "seen_time") return `metadata.items.seen_time:"${new Date(T).toISOString()}"`;
    return `metadata.items.name:${quoted(v)}`;
  }),
  fc.tuple(fc.constantFrom(...INT64S)).map(([v]) => `metadata.sizes:${v}`),
  stringTest("metadata.inner.label", str),
  stringTest("metadata.inner.child.label", str),
  stringTest("metadata.note", str),
  fc.tuple(allOps, fc.integer({ min: 0, max: 3 })).map(([op, v]) => `metadata.retries ${op} ${v}`),
  fc.constantFrom(
    "metadata.tags:*",
    "metadata.items:*",
    "metadata.sizes:*",
    "metadata.inner:*",
    "metadata.inner.child:*",
    "metadata.note:*",
    "metadata.retries:*",
    "metadata.elapsed:*",
    "metadata.create_time:*",
    "metadata.progress_percent:*",
    "metadata.target:*",
    "metadata.stage:*",
    "metadata.ratio:*",
    "metadata.bytes_done:*",
    "metadata.cancel_requested:*",
  ),
);

const restriction = fc.oneof(fixedRestriction, metadataRestriction);

const filter: fc.Memo<string> = fc.memo((depth) =>
  depth <= 1
    ? restriction
    : fc.oneof(
        { weight: 5, arbitrary: restriction },
        { weight: 2, arbitrary: fc.tuple(filter(depth - 1), filter(depth - 1)).map(([a, b]) => `(${a}) AND (${b})`) },
        { weight: 2, arbitrary: fc.tuple(filter(depth - 1), filter(depth - 1)).map(([a, b]) => `(${a}) OR (${b})`) },
        { weight: 1, arbitrary: fc.tuple(restriction, restriction, restriction).map(([a, b, c]) => `${a} ${b} OR ${c}`) },
        { weight: 1, arbitrary: fc.tuple(restriction, restriction, restriction).map(([a, b, c]) => `${a} AND ${b} OR ${c}`) },
        { weight: 2, arbitrary: filter(depth - 1).map((a) => `NOT (${a})`) },
        { weight: 1, arbitrary: restriction.map((a) => `-${a}`) },
      ),
);

let pair: StorePair;
before(async () => {
  pair = await openStorePair();
});
after(async () => {
  await pair?.close();
});

it(`lists on both stores exactly what the reference evaluator selects (${RUNS} runs)`, { timeout: 120_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(plans, fc.array(filter(3), { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 4 }), async (ops, filters, pageSize) => {
      await pair.reset();
      let json: Map<string, string | undefined> | undefined;
      for (const { store } of pair.stores) json = await fill(store, ops);
      const records = await listAll(pair.stores[0]!.store, undefined);
      assert.equal(records.length, ops.length);
      for (const text of filters) {
        const expr = compileFilter(text, schema);
        const expected = records
          .filter((r) => {
            const metadata = json!.get(r.id);
            return expr === undefined || evaluate(expr, r, metadata === undefined ? undefined : JSON.parse(metadata));
          })
          .map((r) => r.id);
        for (const { name, store } of pair.stores) {
          const listed = (await listAll(store, expr, pageSize)).map((r) => r.id);
          assert.deepEqual(listed, expected, `${name}: ${text}`);
        }
      }
    }),
    { numRuns: RUNS },
  );
});
