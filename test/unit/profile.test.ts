import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkProfileModule, loadProfile, loadProfileModule, profileOptions, type DeploymentProfile } from "../../src/profiles/index.js";
import { profileNames, resolveProfile } from "../../src/cli/profile.js";
import { file_longrun_demo_v1_demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { filterDialects as storageTransferDialects, profile as storageTransferProfile } from "../../examples/storage-transfer/profile.js";

describe("deployment profiles", () => {
  it("turn served-method lists into per-transport disabled sets, and the rest into server options", () => {
    const o = profileOptions(storageTransferProfile, storageTransferDialects);
    assert.deepEqual(o.names, { collection: "transferOperations" });
    assert.deepEqual(o.disabled, { rest: ["DeleteOperation", "WaitOperation"], grpc: [] });
    assert.equal(o.maxPageSize, 256);
    assert.equal(o.filterRequired, true);
    assert.equal(o.filterDialect, storageTransferDialects["storage-transfer-json"]);
    assert.deepEqual(
      o.controls.map((c) => c.command),
      ["pause", "resume"],
    );
    assert.equal(o.errorDomain, "storagetransfer.googleapis.com");
  });

  it("every named profile (built in, or a profile module of the examples) loads, checks out and is named by its name", async () => {
    assert.deepEqual(profileNames(), ["longrun", "cloud-search", "route-optimization", "storage-transfer"]);
    for (const name of profileNames()) {
      const loaded = await resolveProfile(name);
      assert.equal(loaded.profile.name, name);
      assert.doesNotThrow(() => profileOptions(loaded.profile, loaded.filterDialects));
    }
    const storageTransfer = await resolveProfile("storage-transfer");
    assert.deepEqual(Object.keys(storageTransfer.filterDialects ?? {}), ["storage-transfer-json"]);
    assert.deepEqual(storageTransfer.files?.map((f) => f.name), ["google/storagetransfer/v1/transfer"]);
    await assert.rejects(resolveProfile("no-such-profile"), /no profile named "no-such-profile" \(named profiles: longrun, cloud-search/);
  });

  it("a profile module exports `profile` and may bring files, filterDialects, methods and listScope; each is checked", async () => {
    const profile: DeploymentProfile = { name: "m", listing: { filterDialect: "mine" } };
    const mine = () => undefined;
    const listScope = () => "projects/p";
    const module = checkProfileModule({ profile, files: [file_longrun_demo_v1_demo], filterDialects: { mine }, methods: demoMethods, listScope }, "m.ts");
    assert.equal(module.profile, profile);
    assert.deepEqual(module.files, [file_longrun_demo_v1_demo]);
    assert.equal(module.filterDialects?.mine, mine);
    assert.equal(module.methods, demoMethods);
    assert.equal(module.listScope, listScope);
    assert.ok(!("listScope" in checkProfileModule({ profile, filterDialects: { mine } }, "m.ts")), "absent when not exported");
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /m\.ts: exports no `profile`/],
      [{ profile, filterDialects: { mine } , files: ["google/x.proto"] }, /`files` must be a list of proto files/],
      [{ profile, filterDialects: { mine: "json" } }, /filterDialects\.mine must be a function/],
      [{ profile, filterDialects: { mine }, methods: {} }, /`methods` must be an array/],
      [{ profile, filterDialects: { mine }, listScope: "projectId" }, /`listScope` must be a function/],
      [{ profile }, /listing\.filterDialect must be one of aip-160 /],
    ];
    for (const [exports, error] of cases) assert.throws(() => checkProfileModule(exports, "m.ts"), error);
    // Any file that is not a module is a JSON profile: a module with only `profile`.
    const dir = mkdtempSync(join(tmpdir(), "longrun-profile-module-"));
    writeFileSync(join(dir, "p.json"), JSON.stringify({ name: "j" }));
    assert.deepEqual(await loadProfileModule(join(dir, "p.json")), { profile: { name: "j" } });
    await assert.rejects(loadProfileModule(join(dir, "missing.ts")), /cannot load the profile module .*missing\.ts/);
  });

  it("a profile from JSON is checked key by key: mistakes are errors naming the path, not ignored settings", () => {
    const dir = mkdtempSync(join(tmpdir(), "longrun-profile-"));
    const write = (value: unknown, file = "p.json") => {
      writeFileSync(join(dir, file), typeof value === "string" ? value : JSON.stringify(value));
      return join(dir, file);
    };
    const ok: DeploymentProfile = {
      name: "jobs",
      names: { collection: "jobOperations" },
      rest: { prefix: "/v2", methods: ["GetOperation", "ListOperations"], additionalBindings: [{ method: "GetOperation", get: "/v2/jobs/{name=**}" }] },
      listing: { maxPageSize: 10, filterDialect: "aip-160" },
    };
    assert.deepEqual(loadProfile(write(ok)), ok);
    const cases: [unknown, RegExp][] = [
      ["{not json", /cannot read the profile .*p\.json/],
      [{ ...ok, name: "" }, /name is required/],
      [{ ...ok, lsiting: {} }, /unknown key "lsiting"/],
      [{ ...ok, rest: { methods: ["GetOperation", "PurgeOperations"] } }, /rest\.methods must be a list of GetOperation, ListOperations/],
      [{ ...ok, rest: { additionalBindings: [{ method: "GetOperation", put: "/x" }] } }, /rest\.additionalBindings\[0\]: unknown key "put"/],
      [{ ...ok, listing: { maxPageSize: 0 } }, /listing\.maxPageSize must be a positive integer/],
      [{ ...ok, listing: { filterDialect: 160 } }, /listing\.filterDialect must be a dialect's name/],
      [{ ...ok, controls: [{ method: "Pause", command: "pause" }] }, /controls\[0\]\.method must be an RPC's full name/],
    ];
    for (const [value, error] of cases) assert.throws(() => loadProfile(write(value)), error);
    assert.throws(() => profileOptions({ name: "x", grpc: { methods: ["ListOperations"] } }), /GetOperation must be served/);
    // Which dialect names exist depends on the server's filterDialects, so that is checked by profileOptions.
    const sql: DeploymentProfile = { name: "x", listing: { filterDialect: "sql" } };
    assert.deepEqual(loadProfile(write(sql)), sql);
    assert.throws(() => profileOptions(sql, { "storage-transfer-json": () => undefined }), /listing\.filterDialect must be one of aip-160, storage-transfer-json/);
    assert.throws(() => profileOptions(sql), /listing\.filterDialect must be one of aip-160 /);
    const registered = () => undefined;
    assert.equal(profileOptions({ name: "x", listing: { filterDialect: "sql" } }, { sql: registered }).filterDialect, registered);
    assert.throws(() => profileOptions({ name: "x" }, { "aip-160": registered }), /"aip-160" is built in/);
  });
});
