// The library API (`server.operations`): start and await in-process, no RPC (grpc and http off), on a real
// SQLite file and on a real PostgreSQL shared by two instances (started on A, run by B, awaited on A).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { anyPack, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { DeleteOperationRequestSchema, Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Demo, SleepRequestSchema, SleepResponseSchema, type SleepResponse } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { startServer, type LongrunServer, type ServerOptions } from "../../src/server.js";
import { sleep } from "../../src/demo/sleep.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

const SLEEP = "longrun.demo.v1.Demo.Sleep";

function library(options: Partial<ServerOptions> & Pick<ServerOptions, "store">): Promise<LongrunServer> {
  // No grace at close: a handler still sleeping (a deleted operation's) is stopped at once.
  return startServer({ methods: [sleep], grpc: false, http: false, log: () => undefined, shutdownGraceMs: 0, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RpcError, `an RpcError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a rejection");
}

const failure = {
  code: Code.FAILED_PRECONDITION,
  message: "the shelf is locked",
  details: [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "SHELF_LOCKED", domain: "library.example", metadata: { shelf: "7" } }))],
};

/** What every store must do: `starter` starts and awaits; `runner` runs the handlers (the same server, or another). */
function behaves(servers: () => { starter: LongrunServer }): void {
  it("a started operation's result is its decoded response, typed by the declaration", async () => {
    const { starter } = servers();
    const op = await starter.operations.start(sleep, { duration: durationFromMs(5) });
    assert.match(op.name, /^operations\//);
    const response: SleepResponse = await op.result();
    assert.equal(response.$typeName, SleepResponseSchema.typeName);
    assert.equal(durationMs(response.slept!), 5);
    const got = await op.get();
    assert.equal(got.done, true);
    assert.equal(got.name, op.name);
  });

  it("a descriptor or a full name starts the method too, typed by `response` when given", async () => {
    const { starter } = servers();
    const byDescriptor = await starter.operations.start(Demo.method.sleep, { duration: durationFromMs(0) }, { response: SleepResponseSchema });
    const byName = await starter.operations.start(SLEEP, create(SleepRequestSchema, { duration: durationFromMs(0) }));
    const typed: SleepResponse = await byDescriptor.result();
    assert.equal(typed.$typeName, SleepResponseSchema.typeName);
    assert.equal((await byName.result()).$typeName, SleepResponseSchema.typeName);
  });

  it("a failed handler rejects the result with the operation's code, message and ErrorInfo", async () => {
    const { starter } = servers();
    const op = await starter.operations.start(sleep, { duration: durationFromMs(0), failWith: failure });
    const err = await rejection(op.result());
    assert.equal(err.code, Code.FAILED_PRECONDITION);
    assert.equal(err.message, "the shelf is locked");
    assert.equal(err.reason, "SHELF_LOCKED");
    assert.deepEqual(err.metadata, { shelf: "7" });
    assert.equal(err.details.length, 1, "the details as the handler gave them");
    const got = await op.get();
    assert.equal(got.result.case, "error");
  });

  it("a cancelled operation rejects its result with CANCELLED", async () => {
    const { starter } = servers();
    const op = await starter.operations.start(sleep, { duration: durationFromMs(60_000) });
    const rejected = rejection(op.result());
    await op.cancel();
    assert.equal((await rejected).code, Code.CANCELLED);
  });

  it("an unknown method is UNIMPLEMENTED, naming it; an invalid request is the method's INVALID_ARGUMENT", async () => {
    const { starter } = servers();
    const unknown = await rejection(starter.operations.start("no.such.Service.Method", {}));
    assert.equal(unknown.code, Code.UNIMPLEMENTED);
    assert.match(unknown.message, /no\.such\.Service\.Method/);
    assert.equal((await rejection(starter.operations.start(Operations.method.getOperation, { name: "operations/x" }))).code, Code.UNIMPLEMENTED);
    const invalid = await rejection(starter.operations.start(sleep, { duration: durationFromMs(-1) }));
    assert.equal(invalid.code, Code.INVALID_ARGUMENT);
    await assert.rejects(starter.operations.start(SLEEP, {}, { response: ErrorInfoSchema }), TypeError);
  });

  it("result() on an operation already finished answers at once, as often as asked", async () => {
    const { starter } = servers();
    const op = await starter.operations.start(sleep, { duration: durationFromMs(0) });
    const first = await op.result();
    assert.deepEqual(await op.result(), first);
    assert.deepEqual(await op.result(), first);
  });

  it("many concurrent awaits: each result once its operation is done, several on one operation", async () => {
    const { starter } = servers();
    const singly = await Promise.all(Array.from({ length: 200 }, (_, i) => starter.operations.start(sleep, { duration: durationFromMs(i % 7) })));
    const batch = await starter.operations.startMany(sleep, Array.from({ length: 300 }, () => ({ duration: durationFromMs(0) })));
    const ops = [...singly, ...batch];
    const results = await Promise.all([...ops.map((op) => op.result()), ...ops.slice(0, 50).map((op) => op.result())]);
    assert.equal(results.length, 550);
    assert.ok(results.every((r) => r.$typeName === SleepResponseSchema.typeName));
    assert.equal(new Set(ops.map((op) => op.name)).size, 500);
  });

  it("a signal stops waiting without cancelling the operation", async () => {
    const { starter } = servers();
    const op = await starter.operations.start(sleep, { duration: durationFromMs(200) });
    const stop = new AbortController();
    const waiting = op.result({ signal: stop.signal });
    stop.abort(new Error("gave up"));
    await assert.rejects(waiting, /gave up/);
    assert.equal(durationMs((await op.result()).slept!), 200, "it ran to its end");
  });
}

describe("library API on SQLite (no gRPC, no REST)", () => {
  let server: LongrunServer;
  before(async () => {
    server = await library({ store: SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-library-")), "longrun.db")) });
    assert.equal(server.grpcAddress, undefined);
    assert.equal(server.httpUrl, undefined);
  });
  after(() => server?.close());

  behaves(() => ({ starter: server }));

  it("an operation finished before result() is called answers without waiting", async () => {
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const op = await server.operations.start(sleep, { duration: durationFromMs(0) });
    const stop = server.runtime.onFinished((ops) => ops.some((o) => o.record?.name === op.name) && finished());
    await done;
    stop();
    assert.equal((await op.result()).$typeName, SleepResponseSchema.typeName);
  });

  it("an operation deleted while awaited rejects its result with NOT_FOUND; get() then too", async () => {
    const op = await server.operations.start(sleep, { duration: durationFromMs(60_000) });
    const rejected = rejection(op.result());
    await server.service.deleteOperation(create(DeleteOperationRequestSchema, { name: op.name }));
    assert.equal((await rejected).code, Code.NOT_FOUND);
    assert.equal((await rejection(op.get())).code, Code.NOT_FOUND);
  });

  it("closing the server rejects the results still awaited with UNAVAILABLE", async () => {
    const own = await library({ store: SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-library-")), "longrun.db")), worker: false });
    const op = await own.operations.start(sleep, { duration: durationFromMs(0) });
    const rejected = rejection(op.result());
    await own.close();
    assert.equal((await rejected).code, Code.UNAVAILABLE);
  });
});

describe("library API on PostgreSQL, two instances: started and awaited on A, run by B", () => {
  let db: TestSchema;
  let a: LongrunServer;
  let b: LongrunServer;
  before(async () => {
    db = await freshSchema("lr_library");
    const open = () => PostgresStore.open({ connectionString: db.url, schema: db.schema });
    // A runs no handler: whatever A's awaits see came through the database's notifications.
    a = await library({ store: await open(), worker: false });
    b = await library({ store: await open(), leaseMs: 60_000 });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });

  behaves(() => ({ starter: a }));
});

describe("library API on PostgreSQL, one instance: started, run and awaited on A", () => {
  let db: TestSchema;
  let a: LongrunServer;
  before(async () => {
    db = await freshSchema("lr_library");
    a = await library({ store: await PostgresStore.open({ connectionString: db.url, schema: db.schema }) });
  });
  after(async () => {
    await a?.close();
    await db?.drop();
  });

  behaves(() => ({ starter: a }));
});
