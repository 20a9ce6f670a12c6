// `npm run build` (scripts/build.mjs): the compiled JavaScript serves as the sources do — the demo starts,
// an operation started over REST is read back — and the files it reads by path next to itself (the
// dashboard's assets, the example profiles) are there. Built into a folder of its own inside the checkout
// (where compiled files find node_modules), removed after.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("the compiled build (npm run build)", () => {
  const out = join(ROOT, "node_modules", ".cache", `longrun-build-test-${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), "longrun-build-"));
  let server: ChildProcess | undefined;
  let url = "";
  let output = "";

  before(async () => {
    const { buildDist } = (await import(join(ROOT, "scripts", "build.mjs"))) as { buildDist(options: { out: string }): Promise<number> };
    assert.ok((await buildDist({ out })) > 100);
    server = spawn(process.execPath, [join(out, "src", "cli", "main.js"), "serve", "--demo", "--store", `sqlite:${join(dir, "db.sqlite")}`, "--grpc-port", "0", "--http-port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    server.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!/REST listening on (\S+)/.test(output)) {
      assert.ok(server.exitCode === null, `the compiled server exited:\n${output}`);
      assert.ok(Date.now() < deadline, `the compiled server did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    url = /REST listening on (\S+)/.exec(output)![1]!;
  });
  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    rmSync(out, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts an operation and serves it back, and its dashboard", async () => {
    const started = await fetch(`${url}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ duration: "0s" }) });
    assert.equal(started.status, 200);
    const { name } = (await started.json()) as { name: string };
    assert.match(name, /^operations\//);
    const read = await fetch(`${url}/v1/${name}`);
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { name: string }).name, name);
    const page = await fetch(`${url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });

  it("lists the example profiles, compiled", async () => {
    const help = spawn(process.execPath, [join(out, "src", "cli", "main.js"), "serve", "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    help.stdout?.on("data", (d: Buffer) => (text += d.toString()));
    await new Promise((resolve) => help.once("exit", resolve));
    assert.match(text.replace(/\s+/g, " "), /longrun, cloud-search, route-optimization, storage-transfer/);
  });
});
