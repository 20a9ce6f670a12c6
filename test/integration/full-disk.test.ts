// The SQLite file on a full disk: a small tmpfs (mounted here, so the test runs as root; it skips with the
// reason when mounting is not permitted to a non-root user) holds the store; a filler file takes the rest.
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, statSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { Reason, RpcError } from "../../src/core/errors.js";
import { newOp } from "../../src/testing/store-contract/fixtures.js";
import { defineMethod } from "../../src/index.js";
import { sleep } from "../../src/demo/sleep.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { TestGrpcClient, type CallError } from "../support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;
/** Small enough to fill in an instant, and smaller than SQLite's auto-checkpoint (1000 WAL frames, ~4 MiB). */
const DISK_SIZE = "4m";

let mnt = "";
let mounted = false;
let skipReason: string | undefined;
/** What a test left open, closed before the unmount whatever happened. */
const cleanups: (() => Promise<void> | void)[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

before(() => {
  process.on("unhandledRejection", onUnhandled);
  mnt = mkdtempSync(join(tmpdir(), "longrun-full-disk-"));
  const mount = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${DISK_SIZE}`, "tmpfs", mnt], { encoding: "utf8" });
  if (mount.status === 0) {
    mounted = true;
    return;
  }
  const why = (mount.error?.message ?? mount.stderr ?? "").trim().split("\n")[0] ?? "";
  const uid = process.getuid?.();
  if (uid !== 0 && mount.error === undefined && /permission|not permitted|only root|superuser|EPERM/i.test(why)) {
    skipReason = `mounting a tmpfs needs root (running as uid ${uid}): ${why}`;
    return;
  }
  throw new Error(`mount -t tmpfs on ${mnt} failed (uid ${uid}): ${why}`);
});

after(async () => {
  process.off("unhandledRejection", onUnhandled);
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (err) {
      console.error("full-disk cleanup failed:", err);
    }
  }
  if (mounted) {
    const umount = spawnSync("umount", [mnt], { encoding: "utf8" });
    // A file still open under it (a failed test's server) would keep it busy: detach it anyway.
    if (umount.status !== 0) spawnSync("umount", ["-l", mnt]);
  }
  if (mnt !== "") rmSync(mnt, { recursive: true, force: true });
});

/** Writes a filler file until the disk has no block left; returns its path. */
function fillDisk(t: TestContext): string {
  const path = join(mnt, "filler");
  t.after(() => rmSync(path, { force: true }));
  const fd = openSync(path, "a");
  try {
    for (const size of [1024 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  assert.equal(statfsSync(mnt).bavail, 0, "the disk is full");
  return path;
}

/**
 * Migrates a fresh store file, then adds triggers recording every transition to done (`test_finishes`)
 * and any change to a row already done (`test_violations`): what "finished exactly once" is checked with.
 */
async function prepareStoreFile(path: string): Promise<void> {
  await SqliteStore.open(path).close();
  const db = new Database(path);
  db.exec(`
    CREATE TABLE test_finishes (id TEXT NOT NULL, attempt INTEGER NOT NULL);
    CREATE TABLE test_violations (id TEXT NOT NULL);
    CREATE TRIGGER test_watch AFTER UPDATE ON operations BEGIN
      INSERT INTO test_violations SELECT OLD.id WHERE OLD.state = 'done';
      INSERT INTO test_finishes SELECT NEW.id, NEW.attempt WHERE OLD.state <> 'done' AND NEW.state = 'done';
    END;
  `);
  db.close();
}

/** What the file says once no server has it open: integrity, journal mode, finishes (attempts) per id, rows. */
function inspect(path: string): { integrity: string; journalMode: string; finishes: Map<string, number[]>; violations: number; ids: Set<string> } {
  const db = new Database(path, { readonly: true });
  try {
    const finishes = new Map<string, number[]>();
    for (const { id, attempt } of db.prepare<[], { id: string; attempt: number }>("SELECT id, attempt FROM test_finishes").all()) {
      finishes.set(id, [...(finishes.get(id) ?? []), attempt]);
    }
    return {
      integrity: db.pragma("integrity_check", { simple: true }) as string,
      journalMode: db.pragma("journal_mode", { simple: true }) as string,
      finishes,
      violations: (db.prepare("SELECT count(*) AS n FROM test_violations").get() as { n: number }).n,
      ids: new Set(db.prepare<[], { id: string }>("SELECT id FROM operations").all().map((r) => r.id)),
    };
  } finally {
    db.close();
  }
}

function idOf(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Waits until the operation is done, through UNAVAILABLE answers (as a client with retries would). */
async function waitDone(client: TestGrpcClient, name: string, timeoutMs = 60_000): Promise<Operation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const op = await client.call(ops.waitOperation, { name, timeout: durationFromMs(2000) });
      if (op.done) return op;
    } catch (err) {
      if (((err as CallError).code as number) !== Code.UNAVAILABLE) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (Date.now() > deadline) throw new Error(`${name} not done in time`);
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Outcome = { accepted: string } | { refused: string };

/** A refusal must be UNAVAILABLE with an ErrorInfo STORE_FULL in longrun's domain; anything else fails the test. */
function assertFullRefusal(err: CallError): string {
  assert.equal(err.code as number, Code.UNAVAILABLE, `refused UNAVAILABLE, not ${err.code}: ${err.message}`);
  assert.equal(err.errorInfo?.reason, Reason.STORE_FULL);
  assert.equal(err.errorInfo?.domain, "longrun.dev");
  return err.details;
}

async function startOverGrpc(client: TestGrpcClient, ms: number): Promise<Outcome> {
  try {
    return { accepted: (await client.call(Demo.method.sleep, { duration: durationFromMs(ms) })).name };
  } catch (err) {
    return { refused: assertFullRefusal(err as CallError) };
  }
}

interface RestError {
  error: { code: number; status: string; message: string; details: { "@type": string; reason?: string; domain?: string }[] };
}

async function startOverRest(url: string, ms: number): Promise<Outcome> {
  const res = await fetch(`${url}/v1/demo:sleep`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ duration: `${ms / 1000}s` }),
  });
  const body = (await res.json()) as { name: string } | RestError;
  if (res.status === 200) return { accepted: (body as { name: string }).name };
  const { error } = body as RestError;
  assert.equal(res.status, 503, `refused 503, not ${res.status}: ${JSON.stringify(body)}`);
  assert.equal(error.status, "UNAVAILABLE");
  const info = error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  assert.equal(info?.reason, Reason.STORE_FULL);
  assert.equal(info?.domain, "longrun.dev");
  return { refused: error.message };
}

function tally(outcomes: readonly Outcome[]): { accepted: string[]; refused: number } {
  return {
    accepted: outcomes.flatMap((o) => ("accepted" in o ? [o.accepted] : [])),
    refused: outcomes.filter((o) => "refused" in o).length,
  };
}

/**
 * The demo's Sleep, except that a start whose request_id begins with "gated-" waits for `gate` and then
 * returns at once, writing no progress: a finish, alone, that the test sends to a full disk.
 */
function gatedSleep(gate: Promise<void>, running = new Set<string>()) {
  const demo = sleep as Parameters<typeof defineMethod>[0];
  return defineMethod({
    ...demo,
    async handler(request, ctx) {
      const { requestId, duration } = request as unknown as { requestId: string; duration?: ReturnType<typeof durationFromMs> };
      if (!requestId.startsWith("gated-")) return demo.handler(request, ctx);
      running.add(ctx.name);
      await gate;
      return { slept: duration };
    },
  } as Parameters<typeof defineMethod>[0]);
}

function skipped(t: TestContext): boolean {
  if (skipReason === undefined) return false;
  t.skip(skipReason);
  return true;
}

describe("the SQLite store on a full disk", () => {
  it("refuses writes UNAVAILABLE STORE_FULL, keeps serving reads, retries finishes, and recovers when space returns", { timeout: 120_000 }, async (t) => {
    if (skipped(t)) return;
    const path = join(mnt, "longrun.db");
    const wal = `${path}-wal`;
    await prepareStoreFile(path);
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const gatedRunning = new Set<string>();
    let server: TestServer | undefined = await startTestServer({
      store: SqliteStore.open(path),
      methods: [gatedSleep(gate, gatedRunning)],
      // Longer than the disk stays full: no lease expires while heartbeats cannot be written.
      leaseMs: 60_000,
    });
    cleanups.push(() => server?.close());
    const { grpc } = server;
    const accepted: string[] = [];

    // Done before the disk fills: must read back unchanged.
    const early: Operation[] = [];
    for (let i = 0; i < 10; i++) {
      const name = (await grpc.call(Demo.method.sleep, { duration: durationFromMs(0) })).name;
      accepted.push(name);
      early.push(await waitDone(grpc, name));
    }
    // Running when it fills: Sleeps writing progress (some failing at the end), and gated ones that will
    // try to write their finish to the full disk.
    const sleeping: string[] = [];
    const failing = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const failWith = i % 4 === 0 ? { code: Code.FAILED_PRECONDITION, message: `fail ${i}` } : undefined;
      const name = (await grpc.call(Demo.method.sleep, { duration: durationFromMs(1500), failWith })).name;
      sleeping.push(name);
      if (failWith) failing.add(name);
    }
    const gated: string[] = [];
    for (let i = 0; i < 8; i++) gated.push((await grpc.call(Demo.method.sleep, { duration: durationFromMs(1000 + i), requestId: `gated-${i}` })).name);
    accepted.push(...sleeping, ...gated);
    await until("every operation running, the Sleeps having written progress", async () => {
      if (gatedRunning.size < gated.length) return false;
      const running = await Promise.all(sleeping.map((name) => grpc.call(ops.getOperation, { name })));
      return running.every((op) => !op.done && anyUnpack(op.metadata!, SleepMetadataSchema)!.progressPercent > 0);
    });
    const walBefore = sizeOf(wal);

    const filler = fillDisk(t);
    const loggedBefore = server.logged.length;
    openGate(); // the gated handlers return now: their finishes meet the full disk

    // Starts: refused with a clear status (or, rarely, fitting in what SQLite had already allocated).
    const grpcStarts: Outcome[] = [];
    const restStarts: Outcome[] = [];
    for (let i = 0; i < 30; i++) grpcStarts.push(await startOverGrpc(grpc, 100));
    for (let i = 0; i < 10; i++) restStarts.push(await startOverRest(server.url, 100));
    const byGrpc = tally(grpcStarts);
    const byRest = tally(restStarts);
    t.diagnostic(`starts on the full disk: gRPC ${byGrpc.refused} refused, ${byGrpc.accepted.length} accepted; REST ${byRest.refused} refused, ${byRest.accepted.length} accepted`);
    assert.ok(byGrpc.refused >= 25, "gRPC starts are refused");
    assert.ok(byRest.refused >= 8, "REST starts are refused");
    accepted.push(...byGrpc.accepted, ...byRest.accepted);

    // Reads keep working: Get, List, Wait.
    for (const op of early) assert.deepEqual(await grpc.call(ops.getOperation, { name: op.name }), op, "a done operation reads back unchanged");
    const listed = await grpc.call(ops.listOperations, { name: "operations", pageSize: 1000 });
    assert.deepEqual(new Set(listed.operations.map((op) => op.name)), new Set(accepted), "List answers, with every accepted operation");
    const waited = await grpc.call(ops.waitOperation, { name: gated[0]!, timeout: durationFromMs(50) });
    assert.equal(waited.name, gated[0]);
    // Deletes are writes too.
    let deletesRefused = 0;
    for (const op of early.splice(0, 3)) {
      try {
        await grpc.call(ops.deleteOperation, { name: op.name });
        accepted.splice(accepted.indexOf(op.name), 1); // it fitted: gone, as asked
      } catch (err) {
        assertFullRefusal(err as CallError);
        deletesRefused++;
        early.push(op);
      }
    }
    assert.ok(deletesRefused >= 2, "deletes are refused");

    // The gated handlers returned: their finishes are retried (the runtime's writer), nothing is done that
    // could not be written. The Sleeps wait in ctx.progress, whose writes are retried the same way.
    await until("a write retried on STORE_FULL", () => server!.logged.slice(loggedBefore).some((line) => /retrying a write.*no space left/.test(line)));
    await new Promise((r) => setTimeout(r, 1500)); // the Sleeps would have ended by now
    const whileFull = await Promise.all([...gated, ...sleeping].map((name) => grpc.call(ops.getOperation, { name })));
    const stuck = whileFull.filter((op) => !op.done).length;
    t.diagnostic(`while full: ${stuck} of ${whileFull.length} running operations not done; WAL ${walBefore} → ${sizeOf(wal)} bytes`);
    assert.ok(stuck >= gated.length, "the finishes wait for space");
    assert.ok(sizeOf(wal) >= walBefore, "the WAL keeps what it held");
    assert.equal(statfsSync(mnt).bavail, 0, "still full");

    // Space returns: every accepted operation ends, with its own result.
    unlinkSync(filler);
    for (const name of accepted) {
      const done = await waitDone(grpc, name);
      if (failing.has(name)) {
        assert.equal(done.result.case, "error", `${name} failed as asked`);
        assert.equal(done.result.value.code, Code.FAILED_PRECONDITION);
      } else {
        assert.equal(done.result.case, "response", `${name} succeeded`);
      }
    }
    const gatedDone = await grpc.call(ops.getOperation, { name: gated[3]! });
    assert.equal(gatedDone.result.case, "response");
    // Starts are accepted again.
    const again = (await grpc.call(Demo.method.sleep, { duration: durationFromMs(0) })).name;
    accepted.push(again);
    await waitDone(grpc, again);
    const final = (await grpc.call(ops.listOperations, { name: "operations", pageSize: 1000 })).operations;
    assert.equal(final.length, accepted.length);
    assert.ok(final.every((op) => op.done));

    const logged = server.logged.join("\n");
    assert.doesNotMatch(logged, /threw|Internal error|SqliteError(?!.*no space)/, "nothing logged as a bug");
    assert.match(logged, /retrying a write in \d+ ms: RpcError: The operations store has no space left/);

    await server.close();
    server = undefined;
    assert.equal(existsSync(wal), false, "a clean close checkpoints and removes the WAL");
    const file = inspect(path);
    assert.equal(file.integrity, "ok");
    assert.equal(file.journalMode, "wal");
    assert.equal(file.violations, 0, "no done operation changed");
    assert.deepEqual(new Set(file.ids), new Set(accepted.map(idOf)), "a row for each accepted start, none for a refused one");
    // Once each, by its first attempt: the results were retried by the writer, not lost and run again.
    for (const name of accepted) assert.deepEqual(file.finishes.get(idOf(name)), [1], `${name} finished once, by attempt 1`);

    // The same file, reopened: everything reads back as it was served.
    server = await startTestServer({ store: SqliteStore.open(path), methods: [gatedSleep(gate)] });
    const reread = (await server.grpc.call(ops.listOperations, { name: "operations", pageSize: 1000 })).operations;
    assert.deepEqual(reread, final);
    await server.close();
    server = undefined;
    assert.deepEqual(unhandled, [], "no unhandled rejection");
  });

  it("a disk full for longer than the lease: heartbeats fail, work may run again, and still ends once", { timeout: 120_000 }, async (t) => {
    if (skipped(t)) return;
    const path = join(mnt, "lease.db");
    await prepareStoreFile(path);
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const gatedRunning = new Set<string>();
    let server: TestServer | undefined = await startTestServer({ store: SqliteStore.open(path), methods: [gatedSleep(gate, gatedRunning)], leaseMs: 600 });
    cleanups.push(() => server?.close());
    const { grpc } = server;
    const accepted: string[] = [];
    for (let i = 0; i < 10; i++) accepted.push((await grpc.call(Demo.method.sleep, { duration: durationFromMs(800) })).name);
    for (let i = 0; i < 5; i++) accepted.push((await grpc.call(Demo.method.sleep, { duration: durationFromMs(0), requestId: `gated-${i}` })).name);
    await until("the gated operations running", () => gatedRunning.size === 5);

    const filler = fillDisk(t);
    const loggedBefore = server.logged.length;
    openGate();
    await new Promise((r) => setTimeout(r, 2500)); // four leases long
    const logged = server.logged.slice(loggedBefore).join("\n");
    assert.match(logged, /heartbeat failed: RpcError: The operations store has no space left/);
    unlinkSync(filler);
    for (const name of accepted) assert.equal((await waitDone(grpc, name)).result.case, "response", `${name} succeeded`);
    assert.deepEqual(server.logged.filter((line) => /threw|Internal error/.test(line)), []);
    await server.close();
    server = undefined;
    const file = inspect(path);
    assert.equal(file.integrity, "ok");
    assert.equal(file.violations, 0, "no done operation changed");
    const attempts = accepted.map((name) => file.finishes.get(idOf(name)) ?? []);
    t.diagnostic(`finished by attempts: ${JSON.stringify(attempts.map((a) => a.join(",")))}`);
    for (const [i, name] of accepted.entries()) assert.equal(attempts[i]!.length, 1, `${name} finished once`);
    assert.deepEqual(unhandled, [], "no unhandled rejection");
  });

  for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  it(`a process stopped by ${signal} while the disk is full loses nothing it accepted`, { timeout: 120_000 }, async (t) => {
    if (skipped(t)) return;
    const path = join(mnt, `${signal}.db`);
    const wal = `${path}-wal`;
    await prepareStoreFile(path);
    let child: ServerProcess | undefined = await spawnServer(["--demo", "--store", `sqlite:${path}`], { LONGRUN_SHUTDOWN_GRACE: "200ms" });
    cleanups.push(async () => {
      child?.child.kill("SIGKILL");
      await child?.exited;
    });
    const client = new TestGrpcClient(child.grpcAddress);
    cleanups.push(() => client.close());
    const accepted: string[] = [];
    const early: Operation[] = [];
    for (let i = 0; i < 5; i++) {
      const name = (await client.call(Demo.method.sleep, { duration: durationFromMs(0) })).name;
      accepted.push(name);
      early.push(await waitDone(client, name));
    }
    for (let i = 0; i < 10; i++) accepted.push((await client.call(Demo.method.sleep, { duration: durationFromMs(1000) })).name);
    await new Promise((r) => setTimeout(r, 300)); // claimed, some progress written

    const filler = fillDisk(t);
    const starts: Outcome[] = [];
    for (let i = 0; i < 10; i++) starts.push(await startOverGrpc(client, 100));
    const { accepted: late, refused } = tally(starts);
    accepted.push(...late);
    assert.ok(refused >= 8, "starts are refused");
    await new Promise((r) => setTimeout(r, 1200)); // the Sleeps are blocked writing progress, or their finish
    const walWhileFull = sizeOf(wal);
    child.child.kill(signal);
    const exited = await child.exited;
    const output = child.output();
    child = undefined;
    client.close();
    t.diagnostic(`${signal} while full: exited ${exited}; ${late.length} of 10 starts accepted while full; WAL ${walWhileFull} bytes, ${sizeOf(wal)} left`);
    assert.equal(exited, signal === "SIGKILL" ? "SIGKILL" : 0);
    assert.doesNotMatch(output, /threw|Internal error|unhandled/i, "nothing logged as a bug");

    // Opened again while still full: it reads (recovering the WAL in memory), refuses writes, and holds the
    // file for itself (the dead process's leases could not be expired at open: they expire in their time).
    const stillFull = SqliteStore.open(path);
    try {
      assert.throws(() => SqliteStore.open(path, { busyTimeoutMs: 20 }), /in use by another process/);
      assert.equal((await stillFull.get(idOf(early[0]!.name), Date.now()))?.name, early[0]!.name);
      await assert.rejects(stillFull.create([{ ...newOp("x"), name: "operations/x" }], Date.now()), (err: unknown) => err instanceof RpcError && err.reason === Reason.STORE_FULL);
    } finally {
      await stillFull.close();
    }
    assert.throws(() => SqliteStore.open(join(mnt, "new.db")), (err: unknown) => err instanceof RpcError && err.code === Code.UNAVAILABLE && err.reason === Reason.STORE_FULL);

    unlinkSync(filler);
    let server: TestServer | undefined = await startTestServer({ store: SqliteStore.open(path) });
    cleanups.push(() => server?.close());
    for (const op of early) assert.deepEqual(await server.grpc.call(ops.getOperation, { name: op.name }), op, "done before the kill: unchanged");
    for (const name of accepted) {
      const done = await waitDone(server.grpc, name);
      assert.equal(done.result.case, "response", `${name} succeeded`);
    }
    assert.deepEqual(server.logged.filter((line) => /threw|Internal error/.test(line)), []);
    await server.close();
    server = undefined;
    const file = inspect(path);
    assert.equal(file.integrity, "ok");
    assert.equal(file.violations, 0);
    assert.deepEqual(new Set(file.ids), new Set(accepted.map(idOf)));
    for (const name of accepted) assert.equal(file.finishes.get(idOf(name))?.length, 1, `${name} finished once`);
  });
  }
});
