import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_PROFILES, loadProfile, profileOptions, storageTransferProfile, type DeploymentProfile } from "../../src/profiles/index.js";

describe("deployment profiles", () => {
  it("turn served-method lists into per-transport disabled sets, and the rest into server options", () => {
    const o = profileOptions(storageTransferProfile, { "storage-transfer-json": () => undefined });
    assert.deepEqual(o.names, { collection: "transferOperations" });
    assert.deepEqual(o.disabled, { rest: ["DeleteOperation", "WaitOperation"], grpc: [] });
    assert.equal(o.maxPageSize, 256);
    assert.equal(o.filterRequired, true);
    assert.equal(typeof o.filterDialect, "function");
    assert.deepEqual(
      o.controls.map((c) => c.command),
      ["pause", "resume"],
    );
    assert.equal(o.errorDomain, "storagetransfer.googleapis.com");
  });

  it("every built-in profile is valid and named by its key", () => {
    for (const [name, profile] of BUILTIN_PROFILES) {
      assert.equal(profile.name, name);
      assert.doesNotThrow(() => profileOptions(profile, { "storage-transfer-json": () => undefined }));
    }
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
