// The guard's second check (EndpointAccess.owner and .scope), on one endpoint with a policy that records
// what it is asked: only after a denial, never for an allowed call; a denial names the request's resource;
// what reading the owner throws is answered safely and audited.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, type Message } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Authenticator } from "../../src/auth/authenticator.js";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { guardEndpoints } from "../../src/service/guard.js";
import type { AuditEntry } from "../../src/service/audit.js";
import type { CallContext, Endpoint, EndpointAccess } from "../../src/service/endpoint.js";

const PRINCIPAL = "certificate:alice";
const NAME = "operations/op1";

interface Setup {
  /** The resources alice holds the permission on. */
  granted: readonly string[];
  owner?: EndpointAccess["owner"];
  scope?: EndpointAccess["scope"];
}

function guardedEndpoint({ granted, owner, scope }: Setup) {
  const asked: string[] = [];
  const audit: AuditEntry[] = [];
  const logged: string[] = [];
  const seen: (string | undefined)[] = [];
  const endpoint: Endpoint = {
    method: Operations.method.cancelOperation,
    httpRules: [],
    grpc: true,
    invoke: async (_request, ctx) => {
      seen.push(ctx.scope);
      return create(EmptySchema);
    },
    access: { permission: "longrun.operations.cancel", resource: (r) => (r as Message & { name: string }).name, mutation: true, role: "operator", owner, scope },
  };
  const [guarded] = guardEndpoints([endpoint], {
    auth: {
      authenticator: new Authenticator({}),
      authorize: (principal, permission, resource) => {
        asked.push(resource);
        return principal === PRINCIPAL && permission === "longrun.operations.cancel" && granted.includes(resource);
      },
      scopesOf: () => [],
    },
    audit: (e) => audit.push(e),
    log: (message, err) => logged.push(`${message}: ${String(err)}`),
    now: () => 0,
  });
  const ctx = (): CallContext => ({
    deadline: undefined,
    signal: new AbortController().signal,
    transport: "grpc",
    credentials: { apiKey: undefined, authorization: undefined, certificate: { commonName: "alice", fingerprint256: "00" } },
    principal: undefined,
    header: () => undefined,
  });
  const call = async (context = ctx()) => guarded!.invoke(create(Operations.method.cancelOperation.input, { name: NAME }), context);
  return { call, ctx, asked, audit, logged, seen };
}

const denied = (resource: string) => (err: unknown) =>
  err instanceof RpcError && err.code === Code.PERMISSION_DENIED && err.metadata["resource"] === resource && !err.message.includes("projects/");

describe("the guard's second check", () => {
  it("is never asked for a call allowed on its own resource", async () => {
    let owners = 0;
    let scopes = 0;
    const g = guardedEndpoint({ granted: [NAME], owner: async () => (owners++, "projects/a"), scope: () => (scopes++, "projects/a") });
    await g.call();
    assert.deepEqual([g.asked, owners, scopes, g.seen], [[NAME], 0, 0, [undefined]]);
    assert.equal(g.audit[0]?.grantedOn, undefined);
  });

  it("owner: after a denial, the call is allowed on the resource the operation belongs to, and audited as granted there", async () => {
    const g = guardedEndpoint({ granted: ["projects/a"], owner: async (r) => ((r as Message & { name: string }).name === NAME ? "projects/a" : undefined) });
    await g.call();
    assert.deepEqual(g.asked, [NAME, "projects/a"]);
    assert.deepEqual(g.seen, [undefined], "an owner restricts nothing");
    assert.deepEqual(g.audit.map(({ resource, outcome, grantedOn }) => ({ resource, outcome, grantedOn })), [{ resource: NAME, outcome: "OK", grantedOn: "projects/a" }]);
  });

  it("owner: denied there too, or none (missing, unrecorded): the denial on the request's resource, and nothing invoked", async () => {
    for (const owner of ["projects/b", undefined]) {
      const g = guardedEndpoint({ granted: ["projects/a"], owner: async () => owner });
      await assert.rejects(g.call(), denied(NAME));
      assert.deepEqual(g.asked, owner === undefined ? [NAME] : [NAME, owner]);
      assert.deepEqual(g.seen, []);
      assert.deepEqual(g.audit.map(({ resource, outcome, grantedOn }) => ({ resource, outcome, grantedOn })), [{ resource: NAME, outcome: "PERMISSION_DENIED", grantedOn: undefined }]);
    }
  });

  it("owner: a store error is answered as it is (UNAVAILABLE: retry) and audited; anything else is logged and INTERNAL", async () => {
    const down = guardedEndpoint({ granted: [], owner: () => Promise.reject(new RpcError(Code.UNAVAILABLE, "store down")) });
    await assert.rejects(down.call(), (err: unknown) => err instanceof RpcError && err.code === Code.UNAVAILABLE);
    assert.deepEqual(down.audit.map((e) => e.outcome), ["UNAVAILABLE"]);
    const bug = guardedEndpoint({ granted: [], owner: () => Promise.reject(new Error("a bug")) });
    await assert.rejects(bug.call(), (err: unknown) => err instanceof RpcError && err.code === Code.INTERNAL && !err.message.includes("a bug"));
    assert.ok(bug.logged.some((l) => l.includes("a bug")), bug.logged.join("\n"));
    assert.deepEqual(bug.audit.map((e) => e.outcome), ["INTERNAL"]);
  });

  it("scope: after a denial, allowed on the scope with ctx.scope set for the endpoint; a scope not granted is the denial on the name", async () => {
    const g = guardedEndpoint({ granted: ["projects/a"], scope: () => "projects/a" });
    await g.call();
    assert.deepEqual([g.asked, g.seen], [[NAME, "projects/a"], ["projects/a"]]);
    const other = guardedEndpoint({ granted: ["projects/a"], scope: () => "projects/b" });
    const context = other.ctx();
    await assert.rejects(other.call(context), denied(NAME));
    assert.equal(context.scope, undefined, "no scope is set for a call that is denied");
    const none = guardedEndpoint({ granted: ["projects/a"], scope: () => undefined });
    await assert.rejects(none.call(), denied(NAME));
    assert.deepEqual(none.asked, [NAME]);
  });
});
