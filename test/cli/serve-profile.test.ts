// `longrun serve --profile`: a built-in profile by name, or a JSON file; explicit flags override it.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { runCli } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "longrun-serve-profile-"));
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) s.child.kill("SIGTERM");
  await Promise.all(servers.map((s) => s.exited));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(name: string, args: string[]): Promise<ServerProcess> {
  const server = await spawnServer(["--demo", ...args], { LONGRUN_STORE: `sqlite:${join(dir, `${name}.db`)}` });
  servers.push(server);
  return server;
}

async function startSleep(server: ServerProcess): Promise<string> {
  const res = await fetch(`${server.httpUrl}/v1/demo:sleep`, { method: "POST", body: "{}" });
  assert.equal(res.status, 200);
  return ((await res.json()) as { name: string }).name;
}

describe("longrun serve --profile", () => {
  it("cloud-search: Get at the standard route, List only at …/lro, the rest UNIMPLEMENTED (501)", async () => {
    const server = await serve("cs", ["--profile", "cloud-search"]);
    assert.match(server.output(), /profile cloud-search/);
    const name = await startSleep(server);
    assert.equal((await fetch(`${server.httpUrl}/v1/${name}`)).status, 200);
    const listed = await fetch(`${server.httpUrl}/v1/operations/lro`);
    assert.equal(listed.status, 200);
    assert.ok(((await listed.json()) as { operations: { name: string }[] }).operations.some((o) => o.name === name));
    assert.equal((await fetch(`${server.httpUrl}/v1/operations`)).status, 501);
    assert.equal((await fetch(`${server.httpUrl}/v1/${name}:cancel`, { method: "POST", body: "{}" })).status, 501);
  });

  it("a JSON file; a flag given explicitly overrides the profile, a flag's default does not", async () => {
    const path = join(dir, "jobs.json");
    writeFileSync(path, JSON.stringify({ name: "jobs", names: { collection: "jobOperations" }, listing: { maxPageSize: 2 } }));
    const server = await serve("jobs", ["--profile", path, "--max-page-size", "3"]);
    const names = [await startSleep(server), await startSleep(server), await startSleep(server), await startSleep(server)];
    assert.ok(names.every((n) => n.startsWith("jobOperations/")), names.join());
    const page = (await (await fetch(`${server.httpUrl}/v1/jobOperations?pageSize=100`)).json()) as { operations: unknown[] };
    assert.equal(page.operations.length, 3, "--max-page-size 3 overrides the profile's 2");
  });

  it("a profile that does not check out stops the server at start with the reason", async () => {
    const path = join(dir, "bad.json");
    writeFileSync(path, JSON.stringify({ name: "bad", listing: { filterDialect: "sql" } }));
    const r = await runCli(["serve", "--demo", "--profile", path, "--grpc-port", "0", "--http-port", "0"], {
      env: { LONGRUN_STORE: `sqlite:${join(dir, "bad.db")}` },
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /listing\.filterDialect must be one of aip-160 /);
  });
});
