// The operation counts a scrape reads (src/observability/metrics.ts): the queue's (queued, running) every
// countsCacheMs from the unfinished rows only; the done ones, whose count walks every retained row, 12
// periods at a time. On a real SQLite store with a manual clock.
import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Metrics } from "../../src/observability/metrics.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";

const SLEEP = "longrun.demo.v1.Demo.Sleep";
const RESPONSE = { typeUrl: "type.googleapis.com/google.protobuf.Empty", value: new Uint8Array() };

it("reads the queue's counts every period and the done ones every 12: a scrape in between shows new queued ones, and done ones up to 12 periods late", async () => {
  const sqlite = SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-metrics-counts-")), "ops.db"));
  const reads: string[] = [];
  const store = Object.assign(Object.create(sqlite) as Store, {
    counts: (now: number, options?: { done?: boolean }) => (reads.push(options?.done === false ? "unfinished" : "all"), sqlite.counts(now, options)),
  });
  let now = 1_000;
  const metrics = new Metrics({ store, methods: () => [SLEEP], processMetrics: false, countsCacheMs: 5_000, now: () => now, log: () => undefined });
  const gauge = async (state: string): Promise<number | undefined> => {
    const text = (await metrics.exposition()).text;
    const line = text.split("\n").find((l) => l.startsWith(`longrun_operations{method="${SLEEP}",state="${state}"}`));
    return line === undefined ? undefined : Number(line.split(" ").pop());
  };
  const op = (id: string) => ({ id, name: `operations/${id}`, parent: "", method: SLEEP, requestId: undefined, request: new Uint8Array(), metadata: undefined, runAfter: now });

  await sqlite.create([op("a"), op("b")], now);
  assert.deepEqual([await gauge("queued"), await gauge("done")], [2, 0]);
  assert.deepEqual(reads, ["unfinished", "all"]);

  await sqlite.finish([{ id: "a", attempt: 0, response: RESPONSE }], 86_400_000, now);
  await sqlite.create([op("c")], now);
  now += 5_000;
  assert.deepEqual([await gauge("queued"), await gauge("done")], [2, 0], "the queue read again; the done count not yet");
  assert.deepEqual(reads, ["unfinished", "all", "unfinished"]);

  now += 55_000;
  assert.deepEqual([await gauge("queued"), await gauge("done")], [2, 1], "12 periods on, the done ones too");
  assert.deepEqual(reads, ["unfinished", "all", "unfinished", "unfinished", "all"]);
  await sqlite.close();
});
