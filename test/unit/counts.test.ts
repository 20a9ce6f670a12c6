// OperationCountsReader (src/service/counts.ts): the dashboard's counters read at most once a second per
// scope, however many tabs ask. A fake store counting its stateCounts calls, and a hand-moved clock.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OperationNames } from "../../src/core/names.js";
import type { StateCount, StateCountQuery, Store } from "../../src/store/store.js";
import { COUNTS_TTL_MS, OperationCountsReader } from "../../src/service/counts.js";
import { create } from "@bufbuild/protobuf";
import { GetOperationCountsRequestSchema } from "../../src/gen/longrun/admin/v1/counts_pb.js";

const of = (name: string) => create(GetOperationCountsRequestSchema, { name });

function fakeStore(answer: StateCount[]) {
  const queries: StateCountQuery[] = [];
  let fail = false;
  const store = {
    async stateCounts(query: StateCountQuery) {
      queries.push(query);
      if (fail) throw new Error("store down");
      return answer;
    },
  } as unknown as Store;
  return { store, queries, failNext: (f: boolean) => (fail = f) };
}

const SLEEP = "longrun.demo.v1.Demo.Sleep";

describe("OperationCountsReader", () => {
  it("groups by method, every state a field; one read for 100 calls within the second", async () => {
    const fake = fakeStore([
      { method: SLEEP, state: "running", count: 2 },
      { method: SLEEP, state: "cancelled", count: 1 },
      { method: "a.B.C", state: "failed", count: 3 },
    ]);
    let now = 1_000_000;
    const reader = new OperationCountsReader(fake.store, new OperationNames(), () => now);
    const answers = await Promise.all(Array.from({ length: 100 }, () => reader.read(of("operations"))));
    assert.equal(fake.queries.length, 1);
    assert.deepEqual(fake.queries[0], { parent: "", resource: undefined, now });
    const first = answers[0]!;
    assert.deepEqual(first.methods.map((m) => [m.method, m.queued, m.running, m.paused, m.done, m.failed, m.cancelled]), [
      ["a.B.C", 0n, 0n, 0n, 0n, 3n, 0n],
      [SLEEP, 0n, 2n, 0n, 0n, 0n, 1n],
    ]);
    now += COUNTS_TTL_MS - 1;
    await reader.read(of("operations"));
    assert.equal(fake.queries.length, 1, "still fresh");
    now += 1;
    await reader.read(of("operations"));
    assert.equal(fake.queries.length, 2, "a second later: read again");
    now -= 10_000;
    await reader.read(of("operations"));
    assert.equal(fake.queries.length, 3, "a wall clock stepped back does not keep an entry forever");
  });

  it("keeps scopes apart (parent, resource), and does not keep a failure", async () => {
    const fake = fakeStore([]);
    const now = 5_000;
    const reader = new OperationCountsReader(fake.store, new OperationNames({ parent: "projects/*" }), () => now);
    await reader.read(of("projects/a"));
    await reader.read(of("projects/b"));
    await reader.read(of("projects/b"), "folders/x");
    await reader.read(of("projects/b"), "folders/x");
    assert.deepEqual(fake.queries.map((q) => [q.parent, q.resource]), [["projects/a", undefined], ["projects/b", undefined], ["projects/b", "folders/x"]]);
    fake.failNext(true);
    const other = new OperationCountsReader(fake.store, new OperationNames({ parent: "projects/*" }), () => now);
    await assert.rejects(other.read(of("projects/a")), /store down/);
    fake.failNext(false);
    const again = await other.read(of("projects/a"));
    assert.deepEqual(again.methods, []);
    assert.equal(fake.queries.length, 5, "the failed read was tried again at once");
  });
});
