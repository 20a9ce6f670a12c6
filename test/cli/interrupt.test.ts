import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, LongrunClient } from "longrun/client";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { BIN, runCli, startCli } from "./run.js";

function hasScript(): boolean {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("the longrun CLI when things go wrong: Ctrl-C, no server", () => {
  let t: TestServer;
  let grpc: string[];
  let client: LongrunClient;
  const sleep30s = async () => (await client.start(Demo.method.sleep, { duration: durationFromMs(30_000) })).name;

  before(async () => {
    t = await startTestServer();
    grpc = ["--server", t.server.grpcAddress!];
    client = new LongrunClient({ server: t.server.grpcAddress! });
  });
  after(async () => {
    client.close();
    await t.close();
  });

  it("a server that cannot be reached exits 14 (UNAVAILABLE)", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await runCli(["get", "operations/x", "--rest", "--server", `127.0.0.1:${port}`]);
    assert.equal(r.code, Code.UNAVAILABLE, r.stderr);
    assert.match(r.stderr, /UNAVAILABLE \(14\)/);
  });

  it("Ctrl-C without a terminal stops waiting (exit 1) and leaves the operation running", async () => {
    const name = await sleep30s();
    const running = startCli(["wait", name, ...grpc]);
    await running.waitFor(new RegExp(`${name} \\d+%`));
    running.child.kill("SIGINT");
    const r = await running.done;
    assert.equal(r.code, Code.CANCELLED, r.stderr);
    assert.match(r.stderr, /interrupted: operations\/\S+ goes on \(cancel it with: longrun cancel operations\/\S+\)/);
    assert.equal((await client.get(name)).done, false);
    await client.cancel(name);
  });

  it("Ctrl-C on a terminal asks whether to cancel; yes cancels (exit 1)", { skip: !hasScript() && "needs script(1) for a terminal" }, async () => {
    const name = await sleep30s();
    // script(1) gives the CLI a pseudo-terminal; ^C typed into it becomes SIGINT, as in a real terminal.
    // `exec`: a shell that stayed as the parent (dash does) would itself die of the ^C and script would report 130.
    const command = ["exec", ...[process.execPath, BIN, "wait", name, ...grpc].map((a) => `'${a}'`)].join(" ");
    const running = startCli([], { command: ["script", "-qfec", command, "/dev/null"] });
    await running.waitFor(new RegExp(`${name.replace(/[-]/g, "\\-")} \\[.*\\] \\d+%`), "stdout");
    running.child.stdin!.write("\u0003");
    await running.waitFor(/Cancel operation operations\/\S+\? \[y\/N\]/, "stdout");
    running.child.stdin!.write("y\r");
    const r = await running.done;
    assert.match(r.stdout, /cancellation of operations\/\S+ requested/);
    assert.match(r.stdout, /cancelled: CANCELLED \(1\)/);
    const op = await client.get(name);
    assert.equal(op.done, true);
    assert.equal(op.result.case === "error" && op.result.value.code, Code.CANCELLED);
    assert.equal(r.code, Code.CANCELLED, "script -e passes the exit code on");
  });
});
