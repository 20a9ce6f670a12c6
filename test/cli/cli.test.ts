import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, LongrunClient } from "longrun/client";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { BIN, runCli } from "./run.js";

/** `operations/… 40%` lines, as `wait` prints them when stderr is not a terminal. */
function progressLines(stderr: string, name?: string): number[] {
  return stderr
    .split("\n")
    .map((line) => /^(operations\/\S+) (\d+)%$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && (name === undefined || m[1] === name))
    .map((m) => Number(m[2]));
}

describe("the longrun CLI (the real binary against a real server)", () => {
  let t: TestServer;
  let grpc: string[];
  let rest: string[];
  let client: LongrunClient;
  const sleep30s = async () => (await client.start(Demo.method.sleep, { duration: durationFromMs(30_000) })).name;

  before(async () => {
    t = await startTestServer();
    grpc = ["--server", t.server.grpcAddress!];
    rest = ["--rest", "--server", t.url];
    client = new LongrunClient({ server: t.server.grpcAddress! });
  });
  after(async () => {
    client.close();
    await t.close();
  });

  it("--help lists the commands (exit 0); a bad command line exits 3 (INVALID_ARGUMENT)", async () => {
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    for (const command of ["serve", "start", "get", "list", "wait", "cancel", "delete"]) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
    const bad = await runCli(["list", "--no-such-flag"]);
    assert.equal(bad.code, Code.INVALID_ARGUMENT);
    assert.match(bad.stderr, /unknown option/);
  });

  for (const transport of ["grpc", "rest"] as const) {
    it(`start --wait over ${transport}: progress lines, then the response (exit 0)`, async () => {
      const r = await runCli(["start", "demo.Sleep", "--data", '{"duration":"0.8s"}', "--wait", ...(transport === "grpc" ? grpc : rest)]);
      assert.equal(r.code, 0, r.stderr);
      const progress = progressLines(r.stderr);
      assert.ok(progress.length >= 1, r.stderr);
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "never goes back");
      assert.equal(progress.at(-1), 100);
      assert.match(r.stdout, /^operations\/\S+ DONE\n/);
      assert.match(r.stdout, /"@type": "type\.googleapis\.com\/longrun\.demo\.v1\.SleepResponse"/);
      assert.match(r.stdout, /"slept": "0\.800s"/);
    });
  }

  it("a failed operation is a red line with its code, and the code is the exit code", async () => {
    const r = await runCli(["start", "longrun.demo.v1.Demo/Sleep", "--data", '{"failWith":{"code":9,"message":"not now"}}', "--wait", ...grpc]);
    assert.equal(r.code, Code.FAILED_PRECONDITION);
    assert.match(r.stderr, /operations\/\S+ failed: FAILED_PRECONDITION \(9\): not now/);
  });

  it("start without --wait prints the name; --json the Operation; get shows it", async () => {
    const started = await runCli(["start", "Sleep", "--data", '{"duration":"30s"}', ...grpc]);
    assert.equal(started.code, 0, started.stderr);
    const [name, state] = started.stdout.trim().split(" ");
    assert.match(name!, /^operations\//);
    assert.equal(state, "RUNNING");

    const json = await runCli(["get", name!, "--json", ...rest]);
    assert.equal(json.code, 0, json.stderr);
    const op = JSON.parse(json.stdout) as { name: string; done?: boolean; metadata: Record<string, unknown> };
    assert.equal(op.name, name);
    assert.equal(op.done, undefined);
    assert.equal(op.metadata["@type"], "type.googleapis.com/longrun.demo.v1.SleepMetadata");

    const human = await runCli(["get", name!, ...grpc]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^name +${name}$`, "m"));
    assert.match(human.stdout, /^method +Demo\.Sleep$/m);
    assert.match(human.stdout, /^state +RUNNING$/m);
    assert.match(human.stdout, /^age +\d+s$/m);
    await client.cancel(name!);
  });

  it("list: a table (name, method, state, progress, age), or --json; --filter and --limit", async () => {
    const running = await sleep30s();
    const table = await runCli(["list", ...grpc]);
    assert.equal(table.code, 0, table.stderr);
    const [head, ...rows] = table.stdout.trim().split("\n");
    assert.match(head!, /^NAME +METHOD +STATE +PROGRESS +AGE$/);
    const row = rows.find((r) => r.startsWith(running));
    assert.ok(row, table.stdout);
    assert.match(row, /Demo\.Sleep +RUNNING +\d+% +\d+s$/);
    assert.ok(rows.some((r) => /DONE|FAILED\(FAILED_PRECONDITION\)|CANCELLED/.test(r)), "done ones too");

    const json = await runCli(["list", "--json", "--limit", "2", "--filter", "done = false", ...rest]);
    assert.equal(json.code, 0, json.stderr);
    const ops = JSON.parse(json.stdout) as { name: string; done?: boolean }[];
    assert.ok(ops.length >= 1 && ops.length <= 2);
    assert.ok(ops.every((op) => op.done === undefined));
    await client.cancel(running);
  });

  it("wait --timeout exits 4 (DEADLINE_EXCEEDED); after cancel, wait exits 1 (CANCELLED)", async () => {
    const name = await sleep30s();
    const timedOut = await runCli(["wait", name, "--timeout", "300ms", ...grpc]);
    assert.equal(timedOut.code, Code.DEADLINE_EXCEEDED, timedOut.stderr);
    assert.match(timedOut.stderr, /DEADLINE_EXCEEDED \(4\): .*still running/);

    const cancelled = await runCli(["cancel", name, ...rest]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /Cancellation of operations\/\S+ requested/);
    const waited = await runCli(["wait", name, ...grpc]);
    assert.equal(waited.code, Code.CANCELLED);
    assert.match(waited.stderr, /cancelled: CANCELLED \(1\)/);
    const json = await runCli(["wait", name, "--json"], { env: { LONGRUN_SERVER: t.server.grpcAddress! } });
    assert.equal(json.code, Code.CANCELLED);
    assert.equal((JSON.parse(json.stdout) as { error: { code: number } }).error.code, 1);
  });

  it("delete, then get exits 5 (NOT_FOUND) with the server's message", async () => {
    const name = await sleep30s();
    await client.cancel(name);
    const deleted = await runCli(["delete", name, ...grpc]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await runCli(["get", name, ...rest]);
    assert.equal(gone.code, Code.NOT_FOUND);
    assert.match(gone.stderr, /NOT_FOUND \(5\): Operation "operations\/\S+" not found\. \[OPERATION_NOT_FOUND\]/);
  });

  it("refuses an unknown method and a request that is not JSON of its type (exit 3)", async () => {
    const unknown = await runCli(["start", "nope.Nothing", ...grpc]);
    assert.equal(unknown.code, Code.INVALID_ARGUMENT);
    assert.match(unknown.stderr, /no served long-running method matches "nope\.Nothing" \(served: longrun\.demo\.v1\.Demo\.Sleep\)/);
    const notJson = await runCli(["start", "demo.Sleep", "--data", "{", ...grpc]);
    assert.equal(notJson.code, Code.INVALID_ARGUMENT);
    assert.match(notJson.stderr, /--data is not JSON/);
    const wrongField = await runCli(["start", "demo.Sleep", "--data", '{"seconds":3}', ...rest]);
    assert.equal(wrongField.code, Code.INVALID_ARGUMENT);
    assert.match(wrongField.stderr, /not a valid longrun\.demo\.v1\.SleepRequest/);
    const invalid = await runCli(["start", "demo.Sleep", "--data", '{"duration":"-1s"}', ...grpc]);
    assert.equal(invalid.code, Code.INVALID_ARGUMENT, "the server's INVALID_ARGUMENT");
    const descriptors = await runCli(["list", "--descriptors", BIN, ...rest]);
    assert.equal(descriptors.code, Code.INVALID_ARGUMENT);
    assert.match(descriptors.stderr, /--descriptors .*not a readable FileDescriptorSet/);
  });

});
