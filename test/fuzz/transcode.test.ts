/**
 * The REST transcoder under random input, in process (no HTTP): `Router.lookup` (src/transport/rest/router.ts),
 * `parseQuery` (query.ts) and `buildRequest` (transcode.ts), wired as the REST server wires them, over the
 * routes of the Operations endpoints (unscoped names with gax's single-segment binding, and parent-scoped
 * names) and the demo's Sleep.
 * - Random paths, query strings and bodies: each step returns, or throws an RpcError whose code is
 *   INVALID_ARGUMENT or NOT_FOUND; never another error type, never INTERNAL; never slow (no hang).
 * - Well-formed requests built from random values round-trip: the fields set from the path, the query and
 *   the body read back equal.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { create, getOption, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { http as httpOption } from "../../src/gen/google/api/annotations_pb.js";
import { file_google_longrunning_operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import type {
  GetOperationRequest,
  ListOperationsRequest,
  WaitOperationRequest,
  CancelOperationRequest,
  DeleteOperationRequest,
} from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, file_longrun_demo_v1_demo, type SleepRequest } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { buildRegistry } from "../../src/core/registry.js";
import { OperationNames } from "../../src/core/names.js";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import type { Endpoint } from "../../src/service/endpoint.js";
import { operationsEndpoints } from "../../src/service/endpoints.js";
import type { OperationsService } from "../../src/service/operations-service.js";
import { Router, type RouteMatch } from "../../src/transport/rest/router.js";
import { parseQuery } from "../../src/transport/rest/query.js";
import { buildRequest } from "../../src/transport/rest/transcode.js";
import { check } from "./config.js";

const registry: Registry = buildRegistry([file_longrun_demo_v1_demo, file_google_longrunning_operations]);
const FORMAT = { enumAsInteger: false, pretty: true };
/** A synchronous step slower than this is taken for a hang (generous: a loaded CI machine). */
const SLOW_MS = 1_000;

/** Building the endpoints reads only `service.names`; invoking them is not this test's business. */
function stubService(names: OperationNames): OperationsService {
  return { names } as unknown as OperationsService;
}
const sleepEndpoint: Endpoint = {
  method: Demo.method.sleep,
  httpRules: [getOption(Demo.method.sleep, httpOption)],
  grpc: true,
  invoke: () => Promise.resolve(create(OperationSchema)),
};
const unscoped = new Router([...operationsEndpoints(stubService(new OperationNames())), sleepEndpoint]);
const scoped = new Router([...operationsEndpoints(stubService(new OperationNames({ parent: "projects/*/locations/*" }))), sleepEndpoint]);

const ALLOWED = new Set<Code>([Code.INVALID_ARGUMENT, Code.NOT_FOUND]);

type Outcome = { kind: "built"; match: RouteMatch; message: Message } | { kind: "refused"; code: Code } | { kind: "unrouted" };

/** The REST server's steps, in its order; an RpcError is an answer, anything else fails the property. */
function transcode(router: Router, method: string, path: string, query: string, body: string): Outcome {
  const started = performance.now();
  try {
    const found = router.lookup(method, path);
    if (found.kind !== "match") return { kind: "unrouted" };
    const { route, values } = found.match;
    const q = parseQuery(query, route.binding.input, FORMAT);
    const message = buildRequest(route.binding, values, q.params, body, registry);
    return { kind: "built", match: found.match, message };
  } catch (e) {
    if (!(e instanceof RpcError)) throw new Error(`${method} ${path}?${query} ${JSON.stringify(body.slice(0, 200))}: threw a ${e instanceof Error ? e.constructor.name : typeof e}: ${String(e)}`);
    if (!ALLOWED.has(e.code)) throw new Error(`${method} ${path}?${query}: RpcError code ${e.code} (${e.message})`);
    return { kind: "refused", code: e.code };
  } finally {
    const ms = performance.now() - started;
    if (ms > SLOW_MS) throw new Error(`${method} ${path}: took ${ms.toFixed(0)} ms`);
  }
}

// ---- Random pieces ----

const ID = fc.stringMatching(/^[a-zA-Z0-9_-]{1,12}$/);
const segment = fc.oneof(
  { weight: 4, arbitrary: ID },
  { weight: 3, arbitrary: fc.constantFrom("v1", "operations", "demo", "projects", "p1", "locations", "l1", "demo:sleep", "operations:cancel") },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }).map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.constantFrom("%zz", "%", "%2", "%2F", "%2f", "%3A", "%3a", "%00", "%C3", "%E0%A4%A", "%FF", "%6Fperations", "..", ".", "", "é", "😀", "a b", "?", "#", ":", "::", "a:b:c", "x:cancel", "y:wait", "z:sleep", "%3Acancel") },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) },
);
const path = fc.oneof(
  { weight: 4, arbitrary: fc.array(segment, { minLength: 0, maxLength: 8 }).map((s) => `/v1/${s.join("/")}`) },
  { weight: 2, arbitrary: fc.array(segment, { minLength: 0, maxLength: 8 }).map((s) => `/${s.join("/")}`) },
  { weight: 1, arbitrary: fc.array(segment, { minLength: 0, maxLength: 3 }).map((s) => `/v1/projects/${s.join("/")}/operations`) },
  { weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/v1/operations/${s.join("/")}`) },
  { weight: 4, arbitrary: fc.constantFrom("/v1/demo:sleep", "/v1/operations", "/v1/operations/a:wait", "/v1/operations/a:cancel", "/v1/projects/p/locations/l/operations/o:wait", "", "v1/operations", "*", "//") },
);
const httpMethod = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "DELETE") },
  { weight: 1, arbitrary: fc.constantFrom("PATCH", "PUT", "HEAD", "OPTIONS", "REPORT", "get") },
);

const paramName = fc.oneof(
  fc.constantFrom("name", "filter", "pageSize", "page_size", "pageToken", "page_token", "timeout", "timeout.seconds", "timeout.nanos", "duration", "duration.seconds", "requestId", "request_id", "failWith.code", "fail_with.message", "failWith.details", "returnPartialSuccess", "return_partial_success", "$alt", "alt", "$prettyPrint", "prettyPrint", "fields", "$fields", "key", "$key", "access_token", "$access_token", "$unknown", "nope", "filter.x", "name.", ".name", "", "pageSize.x"),
  fc.string({ maxLength: 10 }),
);
const paramValue = fc.oneof(
  fc.constantFrom("", "json", "json;enum-encoding=int", "proto", "true", "false", "1", "0", "-1", "2147483648", "99999999999999999999", "1.5", "1e3", "NaN", "3s", "-3s", "1.000000001s", "315576000001s", "done = true", "(", "operations", "null", "[]", "{}"),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
  fc.nat({ max: 200_000 }).map((n) => "x".repeat(n)), // huge values
);
const query = fc.oneof(
  fc.array(fc.tuple(paramName, paramValue), { maxLength: 6 }).map((ps) => new URLSearchParams(ps).toString()),
  fc.array(fc.tuple(paramName, paramValue), { maxLength: 4 }).map((ps) => ps.map(([k, v]) => `${k}=${v}`).join("&")), // raw, unencoded
  fc.constantFrom("", "&", "=", "a", "%zz=1", "name=%", "filter=%E0%A4%A", "key=a&key=b", "$alt=json&alt=json", "pageSize=1&pageSize=2"),
);

const validSleep = fc.record(
  {
    duration: fc.oneof(fc.constantFrom("0s", "1s", "1.5s", "-1s", "86400s", "86401s", "315576000001s", "abc", ""), fc.integer(), fc.constant(null)),
    failWith: fc.oneof(fc.record({ code: fc.integer({ min: -2, max: 20 }), message: fc.string({ maxLength: 10 }) }, { requiredKeys: [] }), fc.constant(null), fc.constant("x")),
    requestId: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null)),
    fail_with: fc.record({ details: fc.array(fc.record({ "@type": fc.constantFrom("type.googleapis.com/google.rpc.ErrorInfo", "type.googleapis.com/nope.Nope", ""), reason: fc.string({ maxLength: 5 }) }), { maxLength: 2 }) }),
    timeout: fc.constantFrom("1s", "x", 5),
    name: fc.oneof(fc.constant("operations/a"), fc.string({ maxLength: 10 }), fc.integer()),
  },
  { requiredKeys: [] },
);
const jsonBody = fc.oneof(validSleep, fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<unknown>).map((v) => JSON.stringify(v) ?? "null");
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  { weight: 4, arbitrary: jsonBody },
  { weight: 1, arbitrary: fc.constantFrom("{}", " ", "{", "}", "[", "nul", "{\"duration\":\"1s\",\"duration\":\"2s\"}", "{\"name\":\"a\",\"name\":\"a\"}", "{\"requestId\":\"a\",\"request_id\":\"b\"}", "{\"__proto__\":{\"x\":1}}", "{\"constructor\":{}}", "\uFEFF{}", "{\"a\":1}garbage") },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: jsonBody.map((j) => j.slice(0, Math.max(0, j.length - 1))) }, // truncated JSON
  { weight: 1, arbitrary: fc.nat({ max: 60 }).map((n) => "[".repeat(n) + "]".repeat(n)) },
);

const routers = fc.constantFrom(["unscoped", unscoped] as const, ["scoped", scoped] as const);

it("random requests are transcoded or refused with INVALID_ARGUMENT/NOT_FOUND, never anything else", () => {
  const tally = new Map<string, number>();
  check(
    fc.property(routers, httpMethod, path, query, body, ([, router], m, p, q, b) => {
      const o = transcode(router, m, p, q, b);
      const key = o.kind === "refused" ? `refused ${o.code}` : o.kind;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }),
    3000,
  );
  console.log(`transcode outcomes: ${JSON.stringify([...tally])}`);
  // The generator must reach every outcome, or the property tests little.
  for (const k of ["built", "unrouted", `refused ${Code.INVALID_ARGUMENT}`]) assert.ok((tally.get(k) ?? 0) > 0, `no "${k}" outcome: ${JSON.stringify([...tally])}`);
});

it("random paths on routed requests: bodies and queries of the routed method", () => {
  // Paths that route, so the query and body readers are reached more often.
  const routed = fc.oneof(
    fc.tuple(fc.constant("GET"), fc.constantFrom("/v1/operations", "/v1/operations/a", "/v1/operations/operations%2Fa")),
    fc.tuple(fc.constantFrom("POST"), fc.constantFrom("/v1/demo:sleep", "/v1/operations/a:wait", "/v1/operations/a:cancel")),
    fc.tuple(fc.constant("DELETE"), fc.constant("/v1/operations/a/b")),
  );
  check(
    fc.property(routed, query, body, ([m, p], q, b) => {
      assert.notEqual(transcode(unscoped, m, p, q, b).kind, "unrouted");
    }),
    3000,
  );
});

// ---- Round trips ----

const idText = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 8 })
  .filter((s) => !s.includes("/") && s !== "." && s !== "..");
const ids = fc.array(idText, { minLength: 1, maxLength: 3 });
const enc = (parts: readonly string[]): string => parts.map(encodeURIComponent).join("/");

function built(router: Router, method: string, path: string, query: string, body: string): Message {
  const o = transcode(router, method, path, query, body);
  assert.equal(o.kind, "built", `${method} ${path}?${query} ${body}: ${JSON.stringify(o.kind === "refused" ? o : o.kind)}`);
  return (o as { message: Message }).message;
}

it("Get/Delete/Cancel/Wait read their name back from any percent-encoded path", () => {
  check(
    fc.property(ids, fc.constantFrom("get", "delete", "cancel", "wait"), fc.option(fc.integer({ min: 0, max: 1e6 }), { nil: undefined }), (parts, what, timeoutMs) => {
      const name = `operations/${parts.join("/")}`;
      const p = `/v1/operations/${enc(parts)}`;
      switch (what) {
        case "get":
          assert.equal((built(unscoped, "GET", p, "", "") as GetOperationRequest).name, name);
          break;
        case "delete":
          assert.equal((built(unscoped, "DELETE", p, "", "") as DeleteOperationRequest).name, name);
          break;
        case "cancel":
          assert.equal((built(unscoped, "POST", `${p}:cancel`, "", "{}") as CancelOperationRequest).name, name);
          break;
        case "wait": {
          const b = timeoutMs === undefined ? "" : JSON.stringify({ timeout: `${timeoutMs / 1000}s` });
          const r = built(unscoped, "POST", `${p}:wait`, "", b) as WaitOperationRequest;
          assert.equal(r.name, name);
          if (timeoutMs === undefined) assert.equal(r.timeout, undefined);
          else assert.equal(Number(r.timeout?.seconds ?? -1n) * 1000 + Math.round((r.timeout?.nanos ?? 0) / 1e6), timeoutMs);
          break;
        }
      }
      // gax's binding: the whole name in one segment.
      assert.equal((built(unscoped, "GET", `/v1/operations/${encodeURIComponent(name)}`, "", "") as GetOperationRequest).name, name);
    }),
    1000,
  );
});

it("Get on parent-scoped names reads the name back", () => {
  check(
    fc.property(idText, idText, idText, (project, location, id) => {
      const name = `projects/${project}/locations/${location}/operations/${id}`;
      const p = `/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/operations/${encodeURIComponent(id)}`;
      assert.equal((built(scoped, "GET", p, "", "") as GetOperationRequest).name, name);
      const list = built(scoped, "GET", `/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/operations`, "", "") as ListOperationsRequest;
      assert.equal(list.name, `projects/${project}/locations/${location}`);
    }),
    1000,
  );
});

it("ListOperations reads its query parameters back (either spelling)", () => {
  check(
    fc.property(
      fc.string({ maxLength: 40 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      fc.string({ maxLength: 40 }),
      fc.boolean(),
      fc.boolean(),
      (filter, pageSize, pageToken, snake, partial) => {
        const q = new URLSearchParams([
          ["filter", filter],
          [snake ? "page_size" : "pageSize", String(pageSize)],
          [snake ? "page_token" : "pageToken", pageToken],
          [snake ? "return_partial_success" : "returnPartialSuccess", String(partial)],
        ]).toString();
        const r = built(unscoped, "GET", "/v1/operations", q, "") as ListOperationsRequest;
        assert.deepEqual(
          { name: r.name, filter: r.filter, pageSize: r.pageSize, pageToken: r.pageToken, partial: r.returnPartialSuccess },
          { name: "operations", filter, pageSize, pageToken, partial },
        );
      },
    ),
    1000,
  );
});

it("Sleep reads its body back", () => {
  check(
    fc.property(
      fc.integer({ min: 0, max: 86_400_000 }),
      fc.string({ maxLength: 64 }),
      fc.option(fc.record({ code: fc.integer({ min: 1, max: 16 }), message: fc.string({ maxLength: 20 }) }), { nil: undefined }),
      (ms, requestId, failWith) => {
        const seconds = `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, "0")}s`;
        const body: Record<string, JsonValue> = { duration: seconds, requestId };
        if (failWith !== undefined) body["failWith"] = { code: failWith.code, message: failWith.message };
        const r = built(unscoped, "POST", "/v1/demo:sleep", "", JSON.stringify(body)) as SleepRequest;
        assert.equal(r.requestId, requestId);
        assert.equal(Number(r.duration?.seconds ?? 0n) * 1000 + Math.round((r.duration?.nanos ?? 0) / 1e6), ms);
        assert.equal(r.failWith?.code, failWith?.code);
        assert.equal(r.failWith?.message, failWith?.message);
      },
    ),
    1000,
  );
});
