import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filePolicy, resourceCovers } from "../../src/auth/policy.js";
import { predefinedRoles, type RoleLevel } from "../../src/auth/roles.js";
import { buildAuth } from "../../src/auth/auth.js";
import { checkAuth, loadAuthFile } from "../../src/auth/load.js";
import { hashApiKey } from "../../src/auth/api-key-hash.js";

const catalogue = new Map<string, RoleLevel>([
  ["svc.operations.get", "viewer"],
  ["svc.operations.list", "viewer"],
  ["svc.operations.wait", "viewer"],
  ["svc.operations.cancel", "operator"],
  ["svc.operations.pause", "operator"],
  ["svc.operations.delete", "editor"],
  ["svc.operations.create", "editor"],
  ["svc.jobs.setPolicy", "admin"],
]);

test("a binding reaches its resource and what is under it, by whole segments", () => {
  assert.ok(resourceCovers("*", "anything/at/all"));
  assert.ok(resourceCovers("projects/a", "projects/a"));
  assert.ok(resourceCovers("projects/a", "projects/a/locations/x/operations/1"));
  assert.ok(!resourceCovers("projects/a", "projects/ab/locations/x/operations/1"));
  assert.ok(!resourceCovers("projects/a", "projects"));
  assert.ok(!resourceCovers("projects/a/locations/x", "projects/a"));
  assert.ok(!resourceCovers("projects/a", "projects/-/locations/-"));
});

test("predefined roles nest: viewer ⊂ operator ⊂ editor ⊂ admin", () => {
  const roles = predefinedRoles(catalogue);
  assert.deepEqual([...roles.get("roles/longrun.viewer")!].sort(), ["svc.operations.get", "svc.operations.list", "svc.operations.wait"]);
  assert.deepEqual([...roles.get("roles/longrun.operator")!].sort(), ["svc.operations.cancel", "svc.operations.get", "svc.operations.list", "svc.operations.pause", "svc.operations.wait"]);
  assert.ok(roles.get("roles/longrun.editor")!.has("svc.operations.create"));
  assert.ok(!roles.get("roles/longrun.editor")!.has("svc.jobs.setPolicy"));
  assert.equal(roles.get("roles/longrun.admin")!.size, catalogue.size);
});

test("the file policy grants a role's permissions to its members on the bound resources only", () => {
  const authorize = filePolicy(catalogue, { "roles/custom.reader": ["svc.operations.get"] }, [
    { role: "roles/longrun.viewer", members: ["user:alice"], resource: "projects/a" },
    { role: "roles/custom.reader", members: ["user:bob"], resource: "*" },
    { role: "roles/longrun.admin", members: ["user:root"], resource: "*" },
    { role: "roles/longrun.viewer", members: ["allAuthenticatedUsers"], resource: "projects/public" },
  ]);
  assert.equal(authorize("user:alice", "svc.operations.get", "projects/a/locations/x/operations/1"), true);
  assert.equal(authorize("user:alice", "svc.operations.list", "projects/a/locations/x"), true);
  assert.equal(authorize("user:alice", "svc.operations.get", "projects/b/locations/x/operations/1"), false);
  assert.equal(authorize("user:alice", "svc.operations.cancel", "projects/a/locations/x/operations/1"), false);
  assert.equal(authorize("user:bob", "svc.operations.get", "projects/b/locations/x/operations/1"), true);
  assert.equal(authorize("user:bob", "svc.operations.list", "projects/b/locations/x"), false);
  assert.equal(authorize("user:root", "svc.jobs.setPolicy", "anything"), true);
  assert.equal(authorize("user:mallory", "svc.operations.get", "projects/public/locations/x/operations/1"), true);
  assert.equal(authorize("user:mallory", "svc.operations.get", "projects/a/locations/x/operations/1"), false);
});

test("auth files: YAML and JSON with the documented keys load; the JWKS path is taken from the file's folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "longrun-auth-"));
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [{ kty: "EC", crv: "P-256", x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", kid: "k" }] }));
  const yaml = `apiKeys:
  - sha256: "${hashApiKey("k1")}"
    principal: "serviceAccount:ci@example"
jwt:
  jwks: ./jwks.json
  issuer: "https://issuer.example"
  audience: "longrun"
  principalClaim: sub
roles:
  roles/custom.reader: [svc.operations.get]
bindings:
  - role: roles/longrun.viewer
    members: ["user:alice"]
    resource: "projects/a"
`;
  writeFileSync(join(dir, "auth.yaml"), yaml);
  const fromYaml = loadAuthFile(join(dir, "auth.yaml"));
  assert.equal(fromYaml.config.apiKeys?.[0]?.principal, "serviceAccount:ci@example");
  assert.ok(!(fromYaml.jwks instanceof URL) && fromYaml.jwks?.keys.length === 1);
  writeFileSync(join(dir, "auth.json"), JSON.stringify(fromYaml.config));
  assert.deepEqual(loadAuthFile(join(dir, "auth.json")).config, fromYaml.config);
  const auth = buildAuth(fromYaml, catalogue);
  assert.equal(auth.scopesOf("any.Method").length, 0);
});

test("auth files: every mistake is refused at start-up, naming the key at fault", () => {
  const bad: [unknown, RegExp][] = [
    [{ apiKey: [] }, /unknown key "apiKey"/],
    [{ apiKeys: [{ sha256: "lr_plaintext_key", principal: "user:a" }] }, /apiKeys\[0\]\.sha256: must be the SHA-256/],
    [{ apiKeys: [{ sha256: hashApiKey("k"), principal: "alice" }] }, /apiKeys\[0\]\.principal: a principal is kind:name/],
    [{ apiKeys: [{ sha256: hashApiKey("k"), principal: "user:a" }, { sha256: hashApiKey("k"), principal: "user:b" }] }, /listed twice/],
    [{ jwt: { jwks: "http://keys.example/jwks.json", issuer: "i", audience: "a" } }, /must be https/],
    [{ jwt: { jwks: "./missing.json", issuer: "i", audience: "a" } }, /cannot read the JWKS file/],
    [{ jwt: { jwks: "https://keys.example/jwks.json", issuer: "i" } }, /jwt\.audience: must be a non-empty string/],
    [{ jwt: { jwks: "https://keys.example/jwks.json", issuer: "i", audience: "a", clockToleranceSeconds: 9999 } }, /clockToleranceSeconds/],
    [{ roles: { "roles/longrun.viewer": ["svc.operations.get"] } }, /predefined and cannot be redefined/],
    [{ roles: { "roles/x": ["get"] } }, /roles\.roles\/x\[0\]: a permission is service\.resource\.verb/],
    [{ bindings: [{ role: "roles/nope", members: ["user:a"], resource: "*" }] }, /bindings\[0\]\.role: unknown role/],
    [{ bindings: [{ role: "roles/longrun.viewer", members: ["user:a"] }] }, /bindings\[0\]\.resource: must be a non-empty string/],
    [{ bindings: [{ role: "roles/longrun.viewer", members: ["user:a"], resource: "projects/*" }] }, /no wildcards/],
    [{ bindings: [{ role: "roles/longrun.viewer", members: ["user:a"], resource: "projects/a/" }] }, /whole segments/],
    [null, /the top level: must be an object/],
  ];
  for (const [value, message] of bad) assert.throws(() => checkAuth(value), message, JSON.stringify(value));
  // A custom role granting a permission the server does not check is a typo, caught when the server starts.
  assert.throws(() => buildAuth(checkAuth({ roles: { "roles/x": ["svc.operations.gett"] } }), catalogue), /grants svc\.operations\.gett, which this server does not check/);
});
