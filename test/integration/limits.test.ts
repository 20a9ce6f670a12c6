// Issue 16, item 2: one large operation must not break ListOperations for everyone. Operations hold at
// most the caps; List pages stay within a byte budget a default grpc-js client (4 MiB) accepts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { BytesValueSchema } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import type { Store } from "../../src/store/store.js";
import { bothStores } from "../support/stores.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;
const SLEEP = "longrun.demo.v1.Demo.Sleep";

/** `count` done operations written straight to the store, each with a response of `bytes` (BytesValue). */
async function doneOperations(store: Store, prefix: string, sizes: readonly number[]): Promise<string[]> {
  const now = Date.now();
  const created = await store.create(
    sizes.map((_, i) => ({
      id: `${prefix}${String(i).padStart(3, "0")}`,
      name: `operations/${prefix}${String(i).padStart(3, "0")}`,
      parent: "",
      method: SLEEP,
      requestId: undefined,
      request: new Uint8Array(),
      metadata: undefined,
      runAfter: now,
    })),
    now,
  );
  const applied = await store.finish(
    created.map(({ record }, i) => ({
      id: record.id,
      attempt: 0,
      response: {
        typeUrl: "type.googleapis.com/google.protobuf.BytesValue",
        value: toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array(sizes[i]!).fill(7) })),
      },
    })),
    60_000,
    now,
  );
  assert.ok(applied.every(Boolean));
  return created.map(({ record }) => record.name);
}

/** Every page of a List over gRPC (a default grpc-js client), walking next_page_token. */
async function walk(t: TestServer, pageSize = 0): Promise<string[][]> {
  const pages: string[][] = [];
  let pageToken = "";
  do {
    const page = await t.grpc.call(ops.listOperations, { name: "operations", pageSize, pageToken });
    pages.push(page.operations.map((o) => o.name));
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && pages.length < 100);
  return pages;
}

for (const { label, open } of bothStores("limits")) describe(`ListOperations within a byte budget — ${label}`, () => {
  let t: TestServer;
  let drop: () => Promise<void>;
  let names: string[];
  before(async () => {
    const opened = await open();
    drop = opened.drop;
    t = await startTestServer({ store: opened.store, worker: false });
    // 10 operations of 900 KB among 5 small ones: 13.5 MB in all, far over grpc-js's 4 MiB in one page.
    names = await doneOperations(opened.store, "big", [900_000, 10, 900_000, 900_000, 10, 900_000, 900_000, 900_000, 10, 900_000, 900_000, 900_000, 10, 900_000, 10]);
  });
  after(async () => {
    await t.close();
    await drop();
  });

  for (const pageSize of [0, 1000]) it(`a List with page_size ${pageSize} succeeds; pages hold fewer; the tokens visit each operation once`, async () => {
    const pages = await walk(t, pageSize);
    assert.deepEqual(pages.flat(), [...names].reverse()); // newest first
    assert.ok(pages.length >= 5, `${pages.length} pages`);
    assert.ok(pages.every((p) => p.length >= 1 && p.length < 15));
  });
});

describe("ListOperations: an operation over the budget on its own is served alone", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ worker: false, maxListResponseBytes: 100_000 });
  });
  after(() => t.close());

  it("one operation a page, each page continuing after the last", async () => {
    const store = t.server.service["store"] as Store;
    const names = await doneOperations(store, "alone", [300_000, 300_000, 50, 300_000]);
    const pages = await walk(t);
    assert.deepEqual(pages, [[names[3]], [names[2]], [names[1]], [names[0]]]); // newest first
  });
});

describe("a handler's response over maxResponseBytes, over gRPC", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ maxResponseBytes: 1 });
  });
  after(() => t.close());

  it("fails the operation RESOURCE_EXHAUSTED with the sizes, not the content", async () => {
    const started = await t.grpc.call(Demo.method.sleep, { duration: { nanos: 1_000_000 } });
    const done = await t.grpc.call(ops.waitOperation, { name: started.name, timeout: { seconds: 10n } });
    assert.equal(done.done, true);
    assert.equal(done.result.case, "error");
    assert.equal(done.result.value?.code, Code.RESOURCE_EXHAUSTED);
    assert.match(String(done.result.value?.message), /^The operation's response is \d+ bytes, over the 1-byte limit\.$/);
  });
});
