// Two PostgreSQL stores on one schema, as two instances: a watcher on one hears the progress of an operation
// running through the other (which the change feed does not carry), by the watch's sweep of running operations.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { OperationNames } from "../../src/core/names.js";
import { systemClock } from "../../src/runtime/clock.js";
import { OperationsWatch, type OperationChanges } from "../../src/service/watch.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

describe("the watch on PostgreSQL: progress of an operation running on another instance", () => {
  let db: TestSchema;
  let a: PostgresStore;
  let b: PostgresStore;
  before(async () => {
    db = await freshSchema("watchsweep");
    a = await PostgresStore.open({ connectionString: db.url, schema: db.schema, log: () => {} });
    b = await PostgresStore.open({ connectionString: db.url, schema: db.schema, log: () => {} });
  });
  after(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  it("is heard on the other instance within a sweep, which its own feed never carries", async () => {
    const metadata = (n: number) => ({ typeUrl: "type.googleapis.com/t.M", value: new Uint8Array([8, n]) });
    const now = Date.now();
    const op = (id: string) => ({ id, name: `operations/${id}`, parent: "", method: "t.S.M", requestId: undefined, request: new Uint8Array(), metadata: metadata(0), runAfter: now });
    await a.create([op("a-moving"), op("b-idle")], now);
    const watch = new OperationsWatch({ store: b, names: new OperationNames(), clock: systemClock, log: () => {}, intervalMs: 20, progressSweepMs: 50 });
    const heard: string[] = [];
    const stop = watch.watch({ parent: "" }, (c: OperationChanges) => heard.push(...c.changed));
    const [claimed] = await a.claim({ owner: "instance-a", methods: ["t.S.M"], limit: 1, leaseMs: 30_000, now });
    assert.equal(claimed?.id, "a-moving", "first in (run_after, create_time, id) order");
    await waitFor(() => heard.includes("operations/a-moving"), "its running state heard on b");
    heard.length = 0;
    // b's own feed never carries a's progress: only the sweep can tell it.
    const feed: string[] = [];
    const unsubscribe = b.subscribe((e) => feed.push(e.kind));
    assert.deepEqual(await a.progress([{ id: "a-moving", attempt: 1, metadata: metadata(50) }], Date.now() + 1), [true]);
    await waitFor(() => heard.includes("operations/a-moving"), "the progress heard on b");
    assert.equal(feed.includes("progress"), false);
    unsubscribe();
    stop();
    watch.close();
  });
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
