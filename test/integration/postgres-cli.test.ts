import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer } from "../support/process.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";
import { MIGRATIONS } from "../../src/store/postgres/migrations.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs `longrun <args>` to its end; resolves with its exit code and output. */
function longrun(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("the CLI on PostgreSQL", () => {
  let db: TestSchema;
  before(async () => {
    db = await freshSchema("lr_cli");
  });
  after(() => db.drop());

  it("serve --no-migrate refuses a schema that was never migrated, and says what to run", async () => {
    const { code, output } = await longrun(["serve", "--store", db.url, "--schema", db.schema, "--no-migrate", "--grpc-port", "0", "--http-port", "0"]);
    assert.notEqual(code, 0);
    assert.match(output, /longrun migrate/);
    assert.doesNotMatch(output, /at .*\.ts:\d+/, "a message, not a stack trace");
  });

  it("migrate applies the schema once, from flags or from LONGRUN_STORE / LONGRUN_SCHEMA", async () => {
    const first = await longrun(["migrate", "--store", db.url, "--schema", db.schema]);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /applied migrations 1/);
    const again = await longrun(["migrate"], { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema });
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /up to date/);
    const versions = await db.admin.query(`SELECT version FROM "${db.schema}".migrations ORDER BY version`);
    assert.deepEqual(versions.rows.map((r: { version: number }) => r.version), MIGRATIONS.map((_, i) => i + 1));
  });

  it("SIGTERM releases running operations: the other instance resumes them at once, not after the lease", { timeout: 60_000 }, async () => {
    const env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema, LONGRUN_LEASE: "10m", LONGRUN_SHUTDOWN_GRACE: "100ms" };
    const a = await spawnServer(["--demo"], env);
    const clientA = new TestGrpcClient(a.grpcAddress);
    // Long enough that A is still running it once B has started, even on a loaded machine (B resumes only
    // what is left).
    const op = await clientA.call(Demo.method.sleep, { duration: durationFromMs(6000) });
    for (;;) {
      const seen = await clientA.call(Operations.method.getOperation, { name: op.name });
      if (anyUnpack(seen.metadata!, SleepMetadataSchema)!.progressPercent > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    clientA.close();
    const b = await spawnServer(["--demo"], env);
    const clientB = new TestGrpcClient(b.grpcAddress);
    try {
      a.child.kill("SIGTERM");
      assert.equal(await a.exited, 0);
      let done;
      do done = await clientB.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(5000) });
      while (!done.done);
      assert.equal(done.result.case, "response", "B ran it to the end");
      const row = await db.admin.query(`SELECT attempt, lease_owner FROM "${db.schema}".operations WHERE name = $1`, [op.name]);
      assert.equal(row.rows[0].attempt, 2, "a second attempt, on B");
    } finally {
      clientB.close();
      b.child.kill("SIGTERM");
      await b.exited;
    }
  });
});
