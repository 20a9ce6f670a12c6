// `longrun serve --profile`: every named profile (the built-in one and the examples' profile modules) starts
// from the CLI and answers GetOperation over each transport it serves it on; a profile module or a JSON
// file; explicit flags override the profile.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { profileNames } from "../../src/cli/profile.js";
import { Code } from "../../src/core/code.js";
import { hashApiKey } from "../../src/auth/api-key-hash.js";
import { callError, TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { runCli } from "./run.js";

const dir = mkdtempSync(join(tmpdir(), "longrun-serve-profile-"));
const servers: ServerProcess[] = [];
after(async () => {
  for (const s of servers) s.child.kill("SIGTERM");
  await Promise.all(servers.map((s) => s.exited));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(name: string, args: string[], demo = true): Promise<ServerProcess> {
  const server = await spawnServer([...(demo ? ["--demo"] : []), ...args], { LONGRUN_STORE: `sqlite:${join(dir, `${name}.db`)}` });
  servers.push(server);
  return server;
}

async function startSleep(server: ServerProcess, body = "{}"): Promise<string> {
  const res = await fetch(`${server.httpUrl}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body });
  assert.equal(res.status, 200);
  return ((await res.json()) as { name: string }).name;
}

/** GetOperation over REST answers the operation (and over gRPC when `grpc`). */
async function assertGet(server: ServerProcess, name: string, grpc = true): Promise<void> {
  const res = await fetch(`${server.httpUrl}/v1/${name}`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(((await res.json()) as { name: string }).name, name);
  if (!grpc) return;
  const client = new TestGrpcClient(server.grpcAddress);
  try {
    assert.equal((await client.call(Operations.method.getOperation, { name })).name, name);
  } finally {
    client.close();
  }
}

describe("longrun serve --profile: every named profile starts and answers GetOperation", () => {
  it("the named profiles are longrun's own and the examples' profile modules", () => {
    assert.deepEqual(profileNames(), ["longrun", "cloud-search", "route-optimization", "storage-transfer"]);
  });

  it("longrun: operations/{id}, every method on both transports", async () => {
    const server = await serve("longrun", ["--profile", "longrun"]);
    assert.match(server.output(), /profile longrun/);
    const name = await startSleep(server);
    assert.match(name, /^operations\/[\w-]+$/);
    await assertGet(server, name);
    assert.equal((await fetch(`${server.httpUrl}/v1/operations`)).status, 200);
  });

  it("route-optimization, with the example's BatchOptimizeTours: names under projects/*/locations/*, only Get over REST", async () => {
    // Demo/Sleep has no parent to name its operations under, so the example's method is served instead.
    const server = await serve("ro", ["--profile", "route-optimization", "--methods", "examples/route-optimization/methods.ts"], false);
    assert.match(server.output(), /profile route-optimization/);
    // The model file does not exist: the operation fails in its handler, and GetOperation answers it.
    const model = (file: string) => pathToFileURL(join(dir, file)).href;
    const modelConfigs = [{ inputConfig: { gcsSource: { uri: model("in.json") }, dataFormat: "JSON" }, outputConfig: { gcsDestination: { uri: model("out.json") }, dataFormat: "JSON" } }];
    const res = await fetch(`${server.httpUrl}/v1/projects/p:batchOptimizeTours`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ modelConfigs }) });
    assert.equal(res.status, 200, await res.clone().text());
    const { name } = (await res.json()) as { name: string };
    assert.match(name, /^projects\/p\/locations\/global\/operations\/[\w-]+$/);
    await assertGet(server, name);
    assert.equal((await fetch(`${server.httpUrl}/v1/projects/p/locations/global/operations`)).status, 501);
  });

  it("storage-transfer: transferOperations/{id}, the JSON filter required, pause/resume served (its proto comes with the profile)", async () => {
    const server = await serve("st", ["--profile", "storage-transfer"]);
    assert.match(server.output(), /profile storage-transfer/);
    const name = await startSleep(server, JSON.stringify({ duration: "30s" }));
    assert.match(name, /^transferOperations\/[\w-]+$/);
    await assertGet(server, name);
    const paused = await fetch(`${server.httpUrl}/v1/${name}:pause`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(paused.status, 200, await paused.clone().text());
    assert.deepEqual(await paused.json(), {});
    const unfiltered = await fetch(`${server.httpUrl}/v1/transferOperations`);
    assert.equal(unfiltered.status, 400);
    const projectId = await fetch(`${server.httpUrl}/v1/transferOperations?filter=${encodeURIComponent('{"projectId":"p"}')}`);
    assert.equal(projectId.status, 400, "the JSON dialect, not AIP-160, reads the filter");
    assert.match(((await projectId.json()) as { error: { message: string } }).error.message, /projectId restricts metadata\.project_id/);
    assert.equal((await fetch(`${server.httpUrl}/v1/${name}:cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, 200);
  });

  it("storage-transfer with --auth: the profile module's listScope reaches the server (a list is about the project its filter names)", async () => {
    const key = "lr_serve_profile_viewer";
    const auth = join(dir, "st-auth.json");
    writeFileSync(
      auth,
      JSON.stringify({
        apiKeys: [{ sha256: hashApiKey(key), principal: "user:p-viewer" }],
        bindings: [{ role: "roles/longrun.viewer", members: ["user:p-viewer"], resource: "projects/p" }],
      }),
    );
    const server = await serve("st-auth", ["--profile", "storage-transfer", "--auth", auth], false);
    const list = (projectId: string) =>
      fetch(`${server.httpUrl}/v1/transferOperations?filter=${encodeURIComponent(JSON.stringify({ projectId }))}`, { headers: { "x-goog-api-key": key } });
    // Allowed on projects/p alone, the list passes the guard; the served metadata has no project_id to filter on.
    const own = await list("p");
    assert.equal(own.status, 400, await own.clone().text());
    assert.match(((await own.json()) as { error: { message: string } }).error.message, /projectId restricts metadata\.project_id/);
    const other = await list("q");
    assert.equal(other.status, 403);
    assert.match(((await other.json()) as { error: { message: string } }).error.message, /storagetransfer\.operations\.list' denied on resource 'transferOperations'/);
  });

  it("cloud-search: Get on both transports; List only at …/lro; the rest UNIMPLEMENTED", async () => {
    const server = await serve("cs-grpc", ["--profile", "cloud-search"]);
    const name = await startSleep(server);
    await assertGet(server, name);
    const client = new TestGrpcClient(server.grpcAddress);
    try {
      assert.equal((await callError(client.call(Operations.method.listOperations, { name: "operations" }))).code, Code.UNIMPLEMENTED);
    } finally {
      client.close();
    }
  });
});

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
    assert.equal((await fetch(`${server.httpUrl}/v1/${name}:cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, 501);
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

  it("a profile module file: its profile with the plug-ins it brings (here a filter dialect and methods)", async () => {
    const server = await serve("module", ["--profile", "test/fixtures/profile-module.ts"], false);
    assert.match(server.output(), /profile fixture-module/);
    assert.match(server.output(), /methods .*longrun\.demo\.v1\.Demo\.Sleep/, "the module's methods are served");
    const name = await startSleep(server);
    assert.match(name, /^fixtureOperations\//);
    await assertGet(server, name);
    const listed = await fetch(`${server.httpUrl}/v1/fixtureOperations?filter=everything`);
    assert.equal(listed.status, 200, "the module's dialect reads the filter");
    assert.ok(((await listed.json()) as { operations: { name: string }[] }).operations.some((o) => o.name === name));
    assert.equal((await fetch(`${server.httpUrl}/v1/fixtureOperations?filter=done%20%3D%20true`)).status, 400);
  });

  it("an unknown profile name stops the server at start, listing the names", async () => {
    const r = await runCli(["serve", "--demo", "--profile", "cloud-serch", "--grpc-port", "0", "--http-port", "0"], {
      env: { LONGRUN_STORE: `sqlite:${join(dir, "unknown.db")}` },
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no profile named "cloud-serch" \(named profiles: longrun, cloud-search, route-optimization, storage-transfer\)/);
  });
});
