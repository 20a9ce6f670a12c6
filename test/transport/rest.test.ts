import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import {
  clone,
  create,
  createFileRegistry,
  fromJson,
  getOption,
  type DescMethod,
  type JsonObject,
  type Message,
  type Registry,
} from "@bufbuild/protobuf";
import {
  anyPack,
  anyUnpack,
  EmptySchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
  file_google_protobuf_field_mask,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  timestampFromDate,
} from "@bufbuild/protobuf/wkt";
import { Code, codeName } from "../../src/core/code.js";
import { invalidArgument, Reason, RpcError } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import type { CallContext, Endpoint } from "../../src/service/endpoint.js";
import { http as httpOption } from "../../src/gen/google/api/annotations_pb.js";
import { HttpRuleSchema, type HttpRule } from "../../src/gen/google/api/http_pb.js";
import {
  ListOperationsResponseSchema,
  OperationSchema,
  Operations,
  type CancelOperationRequest,
  type GetOperationRequest,
  type ListOperationsRequest,
  type WaitOperationRequest,
} from "../../src/gen/google/longrunning/operations_pb.js";
import {
  Demo,
  file_longrun_demo_v1_demo,
  SleepMetadataSchema,
  SleepResponseSchema,
  type SleepRequest,
} from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import {
  createRestHandler,
  Router,
  startRestServer,
  type RestServer,
} from "../../src/transport/rest/index.js";

// ---------------------------------------------------------------------------------------------------------
// A test-only service whose request has one field of every kind, to check query-parameter conversion.

function fd(name: string, number: number, type: string, extra: JsonObject = {}): JsonObject {
  const jsonName = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return { name, number, label: "LABEL_OPTIONAL", type, jsonName, ...extra };
}
const kitchenProto = fromJson(FileDescriptorProtoSchema, {
  name: "test/rest/kitchen.proto",
  package: "test.rest.v1",
  syntax: "proto3",
  dependency: [
    "google/protobuf/duration.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/wrappers.proto",
  ],
  enumType: [
    {
      name: "Color",
      value: [
        { name: "COLOR_UNSPECIFIED", number: 0 },
        { name: "RED", number: 1 },
        { name: "GREEN", number: 2 },
      ],
    },
  ],
  messageType: [
    { name: "Inner", field: [fd("id", 1, "TYPE_STRING"), fd("n", 2, "TYPE_INT32")] },
    {
      name: "KitchenRequest",
      field: [
        fd("name", 1, "TYPE_STRING"),
        fd("i32", 2, "TYPE_INT32"),
        fd("i64", 3, "TYPE_INT64"),
        fd("u32", 4, "TYPE_UINT32"),
        fd("u64", 5, "TYPE_UINT64"),
        fd("dbl", 6, "TYPE_DOUBLE"),
        fd("flt", 7, "TYPE_FLOAT"),
        fd("flag", 8, "TYPE_BOOL"),
        fd("data", 9, "TYPE_BYTES"),
        fd("color", 10, "TYPE_ENUM", { typeName: ".test.rest.v1.Color" }),
        fd("tags", 11, "TYPE_STRING", { label: "LABEL_REPEATED" }),
        fd("nums", 12, "TYPE_INT32", { label: "LABEL_REPEATED" }),
        fd("inner", 13, "TYPE_MESSAGE", { typeName: ".test.rest.v1.Inner" }),
        fd("ttl", 14, "TYPE_MESSAGE", { typeName: ".google.protobuf.Duration" }),
        fd("at", 15, "TYPE_MESSAGE", { typeName: ".google.protobuf.Timestamp" }),
        fd("mask", 16, "TYPE_MESSAGE", { typeName: ".google.protobuf.FieldMask" }),
        fd("wrapped", 17, "TYPE_MESSAGE", { typeName: ".google.protobuf.Int32Value" }),
        fd("labels", 18, "TYPE_MESSAGE", { typeName: ".test.rest.v1.KitchenRequest.LabelsEntry", label: "LABEL_REPEATED" }),
        fd("colors", 19, "TYPE_ENUM", { typeName: ".test.rest.v1.Color", label: "LABEL_REPEATED" }),
        fd("fields", 20, "TYPE_STRING"),
        fd("page_size", 21, "TYPE_INT32"),
      ],
      nestedType: [
        {
          name: "LabelsEntry",
          field: [fd("key", 1, "TYPE_STRING"), fd("value", 2, "TYPE_STRING")],
          options: { mapEntry: true },
        },
      ],
    },
  ],
  service: [
    {
      name: "Kitchen",
      method: [{ name: "Echo", inputType: ".test.rest.v1.KitchenRequest", outputType: ".test.rest.v1.KitchenRequest" }],
    },
  ],
});
const wkt = new Map([
  ["google/protobuf/duration.proto", file_google_protobuf_duration],
  ["google/protobuf/timestamp.proto", file_google_protobuf_timestamp],
  ["google/protobuf/field_mask.proto", file_google_protobuf_field_mask],
  ["google/protobuf/wrappers.proto", file_google_protobuf_wrappers],
]);
const kitchenRegistry = createFileRegistry(kitchenProto, (name) => wkt.get(name));
const kitchenFile = kitchenRegistry.getFile("test/rest/kitchen.proto")!;
const kitchenEcho = kitchenRegistry.getService("test.rest.v1.Kitchen")!.methods[0]!;

// ---------------------------------------------------------------------------------------------------------
// Test endpoints: they record what they received and answer from the request.

interface Call {
  method: string;
  request: Message;
  ctx: CallContext;
}
const calls: Call[] = [];
function lastCall(): Call {
  const c = calls.at(-1);
  assert.ok(c, "no call reached an endpoint");
  return c;
}

let aborted: Promise<unknown> = Promise.resolve();
let resolveAborted: (reason: unknown) => void = () => {};

function rule(
  kind: "get" | "post" | "delete" | "patch" | "put",
  path: string,
  body = "",
  extra: { responseBody?: string; additionalBindings?: HttpRule[] } = {},
): HttpRule {
  return create(HttpRuleSchema, { pattern: { case: kind, value: path }, body, ...extra });
}

function endpoint(method: DescMethod, httpRules: HttpRule[], answer: (request: Message, ctx: CallContext) => Promise<Message> | Message): Endpoint {
  return {
    method,
    httpRules,
    grpc: true,
    async invoke(request, ctx) {
      calls.push({ method: method.name, request, ctx });
      return answer(request, ctx);
    },
  };
}

/** GetOperation / WaitOperation: the name picks the behaviour. */
async function operationByName(request: Message, ctx: CallContext): Promise<Message> {
  const name = (request as GetOperationRequest).name;
  if (name.startsWith("operations/error/")) {
    const code = Code[name.slice("operations/error/".length) as keyof typeof Code];
    throw new RpcError(code, `failed with ${codeName(code)}`, { reason: "TEST_FAILURE", metadata: { name } });
  }
  switch (name) {
    case "operations/bug":
      throw new Error("secret-db-password");
    case "operations/invalid":
      throw invalidArgument("name", "is not valid");
    case "operations/wrong-type":
      return create(EmptySchema);
    case "operations/bad-any":
      return create(OperationSchema, { name, metadata: { typeUrl: "type.googleapis.com/not.Registered", value: new Uint8Array() } });
    case "operations/slow":
      return new Promise((_, reject) => {
        ctx.signal.addEventListener("abort", () => {
          resolveAborted(ctx.signal.reason);
          reject(ctx.signal.reason);
        });
      });
  }
  return create(OperationSchema, {
    name,
    done: true,
    result: { case: "response", value: anyPack(EmptySchema, create(EmptySchema)) },
  });
}

const getRule = clone(HttpRuleSchema, getOption(Operations.method.getOperation, httpOption));
// gax's bundled operations.json binding for GetOperation.
getRule.additionalBindings.push(rule("get", "/v1/operations/{name}"));

const endpoints: Endpoint[] = [
  endpoint(Operations.method.listOperations, [getOption(Operations.method.listOperations, httpOption)], (req) =>
    create(ListOperationsResponseSchema, { nextPageToken: `next-after-${(req as ListOperationsRequest).pageToken}` }),
  ),
  endpoint(Operations.method.getOperation, [getRule], operationByName),
  endpoint(Operations.method.deleteOperation, [getOption(Operations.method.deleteOperation, httpOption)], () => create(EmptySchema)),
  endpoint(Operations.method.cancelOperation, [getOption(Operations.method.cancelOperation, httpOption)], () => create(EmptySchema)),
  endpoint(Operations.method.waitOperation, [rule("post", "/v1/{name=operations/**}:wait", "*")], operationByName),
  endpoint(Demo.method.sleep, [getOption(Demo.method.sleep, httpOption)], (req) => {
    const r = req as SleepRequest;
    return create(OperationSchema, {
      name: "operations/demo",
      metadata: anyPack(
        SleepMetadataSchema,
        create(SleepMetadataSchema, { createTime: timestampFromDate(new Date("2024-05-06T07:08:09.500Z")), progressPercent: 40 }),
      ),
      done: true,
      result: { case: "response", value: anyPack(SleepResponseSchema, create(SleepResponseSchema, { slept: r.duration })) },
    });
  }),
  endpoint(
    kitchenEcho,
    [
      rule("get", "/v1/{name=kitchens/*}", "", {
        additionalBindings: [
          rule("post", "/v1/kitchens/{i64}:typed", "*"),
          rule("patch", "/v1/{inner.id=inners/*}/kitchen", "inner"),
          rule("get", "/v1/kitchens/{name}/inner", "", { responseBody: "inner" }),
          rule("get", "/v1/kitchens/{name}/flag", "", { responseBody: "flag" }),
        ],
      }),
    ],
    (req) => req,
  ),
];

const registry: Registry = buildRegistry([file_longrun_demo_v1_demo, kitchenFile]);
const DOMAIN = "test.example.com";

let srv: RestServer;
let base: string;

before(async () => {
  srv = await startRestServer({ endpoints, registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0 });
  base = srv.url;
});
after(async () => {
  await srv.close();
});

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
  json: any;
}

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { "content-type": "application/json", ...headers } };
  if (body !== undefined) init.body = body;
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type"), text, json };
}

/** Asserts the AIP-193 envelope and returns its `error`. */
function assertError(r: Reply, httpStatus: number, status: string, reason?: string): any {
  assert.equal(r.status, httpStatus, r.text);
  assert.equal(r.contentType, "application/json; charset=utf-8");
  assert.deepEqual(Object.keys(r.json), ["error"]);
  const e = r.json.error;
  assert.equal(e.code, httpStatus);
  assert.equal(e.status, status);
  assert.equal(typeof e.message, "string");
  assert.ok(Array.isArray(e.details));
  const info = e.details.find((d: any) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  assert.ok(info, `no ErrorInfo in ${r.text}`);
  for (const d of e.details) assert.equal(Object.keys(d)[0], "@type");
  assert.equal(info.domain, DOMAIN);
  if (reason !== undefined) assert.equal(info.reason, reason);
  return e;
}

/** A raw HTTP/1.1 request (for bodies on GET, chunked bodies, ...). */
function raw(
  method: string,
  path: string,
  opts: { headers?: http.OutgoingHttpHeaders; body?: string | Buffer; chunks?: Buffer[] } = {},
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers = { ...opts.headers };
    if (opts.body !== undefined) headers["content-length"] = Buffer.byteLength(opts.body);
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString(), headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (opts.chunks) {
      for (const c of opts.chunks) req.write(c);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}

// =========================================================================================================

describe("path templates", () => {
  it("makes invalid rules fail when the handler is built", () => {
    const bad: [DescMethod, HttpRule][] = [
      [Operations.method.getOperation, rule("get", "/v1/{name=operations/**}/*")],
      [Operations.method.getOperation, rule("get", "/v1/{nope=operations/*}")],
      [Operations.method.getOperation, rule("get", "/v1/{name.sub}")],
      [Operations.method.getOperation, rule("post", "/v1/{name}", "nope")],
      [Operations.method.getOperation, rule("post", "/v1/{name}", "name")],
      [Operations.method.getOperation, rule("get", "/v1/{name}", "", { responseBody: "nope" })],
      [Operations.method.getOperation, create(HttpRuleSchema, {})],
      [kitchenEcho, rule("get", "/v1/{tags}")],
      [kitchenEcho, rule("get", "/v1/{inner}")],
      [
        Operations.method.getOperation,
        rule("get", "/v1/{name}", "", { additionalBindings: [rule("get", "/v2/{name}", "", { additionalBindings: [rule("get", "/v3/{name}")] })] }),
      ],
    ];
    for (const [method, r] of bad) {
      const ep = endpoint(method, [r], () => create(EmptySchema));
      assert.throws(() => createRestHandler({ endpoints: [ep], registry, errorDomain: DOMAIN }), Error);
    }
  });
});

describe("routing", () => {
  const router = new Router(endpoints);
  function route(method: string, path: string): [string, string[]] | string {
    const r = router.lookup(method, path);
    return r.kind === "match" ? [r.match.route.endpoint.method.name, [...r.match.values]] : r.kind;
  }

  it("prefers verbs, literals and non-empty ** the documented way", () => {
    assert.deepEqual(route("GET", "/v1/operations"), ["ListOperations", ["operations"]]);
    assert.deepEqual(route("GET", "/v1/operations/abc"), ["GetOperation", ["operations/abc"]]);
    assert.deepEqual(route("GET", "/v1/operations/a/b/c"), ["GetOperation", ["operations/a/b/c"]]);
    assert.deepEqual(route("POST", "/v1/operations/abc:cancel"), ["CancelOperation", ["operations/abc"]]);
    assert.deepEqual(route("POST", "/v1/operations/abc:wait"), ["WaitOperation", ["operations/abc"]]);
    assert.deepEqual(route("DELETE", "/v1/operations/abc"), ["DeleteOperation", ["operations/abc"]]);
    assert.deepEqual(route("POST", "/v1/demo:sleep"), ["Sleep", []]);
    // The primary binding's route, not gax's single-segment one, for a plain name.
    assert.equal(router.lookup("GET", "/v1/operations/abc").kind === "match" &&
      (router.lookup("GET", "/v1/operations/abc") as any).match.route.template.source, "/v1/{name=operations/**}");
  });

  it("answers a path it matched before the same, by method; keeps no more than it may, and matches long paths too", () => {
    const fresh = new Router(endpoints);
    const matched = (method: string, path: string) => {
      const r = fresh.lookup(method, path);
      return r.kind === "match" ? `${r.match.route.endpoint.method.name} ${r.match.values.join(",")}` : r.kind;
    };
    for (let round = 0; round < 2; round++) {
      assert.equal(matched("GET", "/v1/operations/abc"), "GetOperation operations/abc");
      assert.equal(matched("DELETE", "/v1/operations/abc"), "DeleteOperation operations/abc");
      assert.equal(matched("PATCH", "/v1/operations/abc"), "wrong-method");
      assert.equal(matched("GET", "/v2/nothing"), "unknown-path");
    }
    // Past the number kept, the oldest go, and every path still routes as before.
    for (let i = 0; i < 1500; i++) assert.equal(matched("GET", `/v1/operations/op${i}`), `GetOperation operations/op${i}`);
    for (let i = 0; i < 1500; i += 97) assert.equal(matched("GET", `/v1/operations/op${i}`), `GetOperation operations/op${i}`);
    const long = "x".repeat(400);
    assert.equal(matched("GET", `/v1/operations/${long}`), `GetOperation operations/${long}`);
    assert.equal(matched("POST", `/v1/operations/${long}:cancel`), `CancelOperation operations/${long}`);
    assert.throws(() => fresh.lookup("GET", "/v1/operations/%zz"), /percent|encod|malformed/i);
    assert.throws(() => fresh.lookup("GET", "/v1/operations/%zz"), /percent|encod|malformed/i, "a refusal is not kept as a match");
  });

  it("decodes %2F in single-segment variables only", () => {
    // gax's bundled binding: GET /v1/operations/{name} with name "operations/abc".
    assert.deepEqual(route("GET", "/v1/operations/operations%2Fabc"), ["GetOperation", ["operations/abc"]]);
    assert.deepEqual(route("GET", "/v1/operations/operations%2fx%20y"), ["GetOperation", ["operations/x y"]]);
    // Multi-segment variables keep %2F / %2f, decode the rest.
    assert.deepEqual(route("DELETE", "/v1/operations/a%2Fb/c%2fd"), ["DeleteOperation", ["operations/a%2Fb/c%2fd"]]);
    assert.deepEqual(route("DELETE", "/v1/operations/x%20y%3Az"), ["DeleteOperation", ["operations/x y:z"]]);
    // An escaped colon is not a verb.
    assert.deepEqual(route("GET", "/v1/operations/a%3Acancel"), ["GetOperation", ["operations/a:cancel"]]);
    // Literals may be escaped too.
    assert.deepEqual(route("GET", "/v1/%6Fperations"), ["ListOperations", ["operations"]]);
  });

  it("routes custom patterns, \"*\" matching any method", () => {
    const custom = (kind: string, path: string): HttpRule =>
      create(HttpRuleSchema, { pattern: { case: "custom", value: { kind, path } } });
    const r = new Router([
      endpoint(Operations.method.getOperation, [custom("report", "/v1/{name=things/*}")], () => create(EmptySchema)),
      endpoint(Operations.method.deleteOperation, [custom("*", "/v1/{name=any/*}")], () => create(EmptySchema)),
    ]);
    const hit = (m: string, p: string): string | undefined => {
      const found = r.lookup(m, p);
      return found.kind === "match" ? found.match.route.endpoint.method.name : found.kind;
    };
    assert.equal(hit("REPORT", "/v1/things/a"), "GetOperation");
    assert.equal(hit("GET", "/v1/things/a"), "wrong-method");
    assert.equal(hit("GET", "/v1/any/a"), "DeleteOperation");
    assert.equal(hit("PROPFIND", "/v1/any/a"), "DeleteOperation");
  });

  it("works the same with gax's binding as a separate, later endpoint", () => {
    const primary = endpoint(Operations.method.getOperation, [rule("get", "/v1/{name=operations/**}")], () => create(EmptySchema));
    const gax = endpoint(Operations.method.getOperation, [rule("get", "/v1/operations/{name}")], () => create(EmptySchema));
    const r = new Router([primary, gax]);
    const which = (p: string): [Endpoint, string] | undefined => {
      const found = r.lookup("GET", p);
      return found.kind === "match" ? [found.match.route.endpoint, found.match.values[0]!] : undefined;
    };
    assert.deepEqual(which("/v1/operations/abc"), [primary, "operations/abc"]);
    assert.deepEqual(which("/v1/operations/operations%2Fabc"), [gax, "operations/abc"]);
    assert.deepEqual(which("/v1/operations/a/b"), [primary, "operations/a/b"]);
  });

  it("matches literals after ** from the end, unambiguously against the plain ** route", () => {
    const get = endpoint(Operations.method.getOperation, [rule("get", "/v1/{name=operations/**}")], () => create(EmptySchema));
    const list = endpoint(Operations.method.listOperations, [rule("get", "/v1/{name=operations/**}/lro")], () => create(EmptySchema));
    const inner = endpoint(Operations.method.deleteOperation, [rule("get", "/v2/{name=**/x/y}:go")], () => create(EmptySchema));
    // Either declaration order gives the same answers.
    for (const r of [new Router([get, list, inner]), new Router([list, get, inner])]) {
      const which = (p: string): [string, string] | string => {
        const found = r.lookup("GET", p);
        return found.kind === "match" ? [found.match.route.endpoint.method.name, found.match.values[0]!] : found.kind;
      };
      assert.deepEqual(which("/v1/operations/lro"), ["ListOperations", "operations"]);
      assert.deepEqual(which("/v1/operations/a/lro"), ["ListOperations", "operations/a"]);
      assert.deepEqual(which("/v1/operations/a/b%2Fc/lro"), ["ListOperations", "operations/a/b%2Fc"]);
      assert.deepEqual(which("/v1/operations/a%20b/%6Cro"), ["ListOperations", "operations/a b"]);
      assert.deepEqual(which("/v1/operations/a"), ["GetOperation", "operations/a"]);
      assert.deepEqual(which("/v1/operations/lro/a"), ["GetOperation", "operations/lro/a"]);
      assert.deepEqual(which("/v1/operations/a/lrox"), ["GetOperation", "operations/a/lrox"]);
      assert.deepEqual(which("/v1/operations"), ["GetOperation", "operations"]);
      assert.equal(which("/v1/operations//lro"), "unknown-path");
      assert.equal(which("/v1/lro"), "unknown-path");
      assert.deepEqual(which("/v2/x/y:go"), ["DeleteOperation", "x/y"]);
      assert.deepEqual(which("/v2/a/b/x/y:go"), ["DeleteOperation", "a/b/x/y"]);
      assert.equal(which("/v2/a/b/x:go"), "unknown-path");
    }
    assert.throws(() => new Router([get, list]).lookup("GET", "/v1/operations/%E0%A4%A/lro"), RpcError);
  });

  it("tells unknown paths from paths bound for other methods", () => {
    assert.equal(route("GET", "/v2/operations"), "unknown-path");
    assert.equal(route("GET", "/v1"), "unknown-path");
    assert.equal(route("GET", "/v1/operations//x"), "unknown-path");
    assert.equal(route("GET", "/v1/operations/"), "unknown-path");
    assert.equal(route("POST", "/v1/kitchens/x/y"), "unknown-path");
    const r = router.lookup("GET", "/v1/demo:sleep");
    assert.deepEqual(r, { kind: "wrong-method", allowed: ["POST"] });
  });
});

describe("REST server", () => {
  describe("requests", () => {
    it("takes body \"*\" with lowerCamelCase and proto names, Duration and Any", async () => {
      let r = await call("POST", "/v1/demo:sleep", JSON.stringify({ duration: "3.5s", requestId: "r1" }));
      assert.equal(r.status, 200, r.text);
      let req = lastCall().request as SleepRequest;
      assert.equal(req.requestId, "r1");
      assert.equal(req.duration?.seconds, 3n);
      assert.equal(req.duration?.nanos, 500_000_000);

      r = await call(
        "POST",
        "/v1/demo:sleep",
        JSON.stringify({
          request_id: "r2",
          fail_with: {
            code: 5,
            message: "gone",
            details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "R", domain: "d" }],
          },
        }),
      );
      assert.equal(r.status, 200, r.text);
      req = lastCall().request as SleepRequest;
      assert.equal(req.requestId, "r2");
      assert.equal(req.failWith?.code, 5);
      const info = anyUnpack(req.failWith!.details[0]!, ErrorInfoSchema);
      assert.equal(info?.reason, "R");
    });

    it("writes proto3 JSON: camelCase, defaults omitted, Any with @type, Duration, Timestamp", async () => {
      const r = await call("POST", "/v1/demo:sleep", JSON.stringify({ duration: "1.25s" }));
      assert.equal(r.status, 200);
      assert.equal(r.contentType, "application/json; charset=utf-8");
      assert.deepEqual(r.json, {
        name: "operations/demo",
        metadata: {
          "@type": "type.googleapis.com/longrun.demo.v1.SleepMetadata",
          createTime: "2024-05-06T07:08:09.500Z",
          progressPercent: 40,
        },
        done: true,
        response: { "@type": "type.googleapis.com/longrun.demo.v1.SleepResponse", slept: "1.250s" },
      });
    });

    it("rejects unknown fields, bad values and invalid JSON with 400 MALFORMED_REQUEST", async () => {
      let r = await call("POST", "/v1/demo:sleep", JSON.stringify({ duration: "1s", bogus: 1 }));
      let e = assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
      assert.match(e.message, /bogus/);

      r = await call("POST", "/v1/demo:sleep", JSON.stringify({ duration: "soon" }));
      assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);

      r = await call("POST", "/v1/demo:sleep", JSON.stringify({ failWith: { details: [{ "@type": "type.googleapis.com/nope.Nope" }] } }));
      e = assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
      assert.match(e.message, /nope\.Nope/);

      r = await call("POST", "/v1/demo:sleep", "{\"duration\": ");
      e = assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
      assert.match(e.message, /^Invalid JSON payload received\./);

      r = await call("POST", "/v1/demo:sleep", "[1,2]");
      assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);

      r = await call("POST", "/v1/demo:sleep", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) as unknown as string);
      assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
    });

    it("refuses duplicate keys at any depth, and a field given under both its names, naming the key", async () => {
      const refused: [string, string, RegExp][] = [
        ["/v1/demo:sleep", '{"duration":"1s","duration":"2s"}', /"duration" appears more than once/],
        ["/v1/demo:sleep", '{"failWith":{"code":5,"message":"a","code":6}}', /"code" appears more than once \(at "failWith\.code"\)/],
        ["/v1/demo:sleep", '{"failWith":{"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"A","reason":"B"}]}}', /at "failWith\.details\[0\]\.reason"/],
        ["/v1/demo:sleep", '{"duration":"1s","dur\\u0061tion":"2s"}', /"duration" appears more than once/],
        ["/v1/demo:sleep", '{"requestId":"a","request_id":"a"}', /"requestId" and "request_id" name the same field/],
        ["/v1/demo:sleep", '{"fail_with":{"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"R","domain":"d"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[],"field_violations":[]}]}}', /at "fail_with\.details\[1\]\.fieldViolations"/],
        ["/v1/kitchens/1:typed", '{"pageSize":1,"page_size":2}', /"pageSize" and "page_size"/],
        ["/v1/kitchens/1:typed", '{"labels":{"a":"1","a":"2"}}', /at "labels\.a"/],
        ["/v1/inners/i1/kitchen", '{"n":1,"n":2}', /"n" appears more than once/],
      ];
      for (const [path, body, message] of refused) {
        const r = await call(path.startsWith("/v1/inners") ? "PATCH" : "POST", path, body);
        const e = assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
        assert.match(e.message, message, body);
        const badRequest = e.details.find((d: { "@type": string }) => d["@type"] === "type.googleapis.com/google.rpc.BadRequest");
        assert.ok(badRequest?.fieldViolations?.[0]?.field, `a field violation names the key: ${r.text}`);
      }
      // Equal keys in different objects, a map's keys that only look like two names of one field, and
      // strings holding quotes, braces and escapes are fine.
      const accepted: [string, string][] = [
        ["/v1/demo:sleep", '{"duration":"1s","failWith":{"code":5,"message":"duration \\"x\\" {,} [","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"R","metadata":{"a_b":"1","aB":"2"}},{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"R"}]}}'],
        ["/v1/kitchens/1:typed", '{"labels":{"page_size":"1","pageSize":"2"},"inner":{"id":"x","n":1},"tags":["a","a"]}'],
      ];
      for (const [path, body] of accepted) {
        const r = await call("POST", path, body);
        assert.equal(r.status, 200, `${body}: ${r.text}`);
      }
    });

    it("accepts :cancel with no body (Python) and a body repeating the path name", async () => {
      let r = await call("POST", "/v1/operations/abc:cancel");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
      assert.equal(r.text, "{}\n");
      assert.equal((lastCall().request as CancelOperationRequest).name, "operations/abc");

      // A non-JSON Content-Type is refused even with no body: a page's form could send that (test/transport/browser.test.ts).
      r = await call("POST", "/v1/operations/abc:cancel", "", { "content-type": "text/plain" });
      assertError(r, 415, "INVALID_ARGUMENT", Reason.UNSUPPORTED_MEDIA_TYPE);

      r = await call("POST", "/v1/operations/abc:cancel", JSON.stringify({ name: "operations/abc" }));
      assert.equal(r.status, 200, r.text);

      r = await call("POST", "/v1/operations/abc:cancel", JSON.stringify({ name: "operations/other" }));
      assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
    });

    it("reads WaitOperation's Duration from the body of the :wait binding", async () => {
      const r = await call("POST", "/v1/operations/w1:wait", JSON.stringify({ timeout: "2.000000001s" }));
      assert.equal(r.status, 200, r.text);
      const req = lastCall().request as WaitOperationRequest;
      assert.equal(req.name, "operations/w1");
      assert.equal(req.timeout?.seconds, 2n);
      assert.equal(req.timeout?.nanos, 1);
    });

    it("serves gax's GET /v1/operations/{name} binding with an escaped slash", async () => {
      const r = await call("GET", "/v1/operations/operations%2Fxyz");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.name, "operations/xyz");
      assert.equal((lastCall().request as GetOperationRequest).name, "operations/xyz");
    });

    it("ignores an empty body on GET and rejects a non-empty one", async () => {
      let r = await raw("GET", "/v1/operations/abc", { headers: { "content-type": "application/json" }, body: "" });
      assert.equal(r.status, 200, r.text);
      const json = { "content-type": "application/json" };
      r = await raw("GET", "/v1/operations/abc", { headers: json, body: "{}" });
      assert.equal(r.status, 200, r.text);
      r = await raw("DELETE", "/v1/operations/abc", { headers: json, body: " \r\n" });
      assert.equal(r.status, 200, r.text);
      r = await raw("GET", "/v1/operations/abc", { headers: json, body: "{\"name\":\"x\"}" });
      assert.equal(r.status, 400, r.text);
      assert.equal(JSON.parse(r.text).error.status, "INVALID_ARGUMENT");
    });

    it("takes a named body field and path variables inside it", async () => {
      let r = await call("PATCH", "/v1/inners/i1/kitchen?name=k", JSON.stringify({ n: 3 }));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { name: "k", inner: { id: "inners/i1", n: 3 } });

      r = await call("PATCH", "/v1/inners/i1/kitchen", JSON.stringify({ id: "inners/i1" }));
      assert.equal(r.status, 200, r.text);

      r = await call("PATCH", "/v1/inners/i1/kitchen", JSON.stringify({ id: "inners/i2" }));
      assertError(r, 400, "INVALID_ARGUMENT");

      r = await call("PATCH", "/v1/inners/i1/kitchen?inner.n=4", JSON.stringify({}));
      assertError(r, 400, "INVALID_ARGUMENT");

      r = await call("PATCH", "/v1/inners/i1/kitchen", JSON.stringify({ bogus: 1 }));
      assertError(r, 400, "INVALID_ARGUMENT");
    });

    it("converts typed path variables", async () => {
      let r = await call("POST", "/v1/kitchens/-42:typed", "{}");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { i64: "-42" });

      r = await call("POST", "/v1/kitchens/42:typed", JSON.stringify({ i64: 42 }));
      assert.equal(r.status, 200, r.text);

      r = await call("POST", "/v1/kitchens/43:typed", JSON.stringify({ i64: "42" }));
      assertError(r, 400, "INVALID_ARGUMENT");

      r = await call("POST", "/v1/kitchens/abc:typed", "{}");
      const e = assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
      assert.match(e.message, /abc/);
    });

    it("answers malformed percent-encoding with 400", async () => {
      const r = await call("GET", "/v1/operations/operations%E0%A4%A");
      assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
    });
  });

  describe("query parameters", () => {
    it("binds camelCase and snake_case names with typed values", async () => {
      let r = await call("GET", "/v1/operations?pageSize=5&filter=done%3Dtrue&returnPartialSuccess=true&pageToken=t1");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { nextPageToken: "next-after-t1" });
      let req = lastCall().request as ListOperationsRequest;
      assert.equal(req.name, "operations");
      assert.equal(req.pageSize, 5);
      assert.equal(req.filter, "done=true");
      assert.equal(req.returnPartialSuccess, true);
      assert.equal(req.pageToken, "t1");

      r = await call("GET", "/v1/operations?page_size=7&return_partial_success=1&page_token=a+b");
      assert.equal(r.status, 200, r.text);
      req = lastCall().request as ListOperationsRequest;
      assert.equal(req.pageSize, 7);
      assert.equal(req.returnPartialSuccess, true);
      assert.equal(req.pageToken, "a b");

      r = await call("GET", "/v1/operations?returnPartialSuccess=0");
      assert.equal((lastCall().request as ListOperationsRequest).returnPartialSuccess, false);
    });

    it("converts every field kind", async () => {
      const q = [
        "i32=-5",
        "i64=9007199254740993",
        "u32=4000000000",
        "u64=18446744073709551615",
        "dbl=1.5",
        "flt=-Infinity",
        "flag=true",
        `data=${encodeURIComponent("aGk+Pw==")}`,
        "color=GREEN",
        "tags=a",
        "tags=b",
        "nums=1",
        "nums=2",
        "inner.id=x",
        "inner.n=3",
        "ttl=3.5s",
        "at=2024-01-02T03:04:05.5%2B01:00",
        "mask=inner.id,pageSize",
        "wrapped=0",
        "colors=RED",
        "colors=2",
        "fields=f",
        "page_size=9",
      ].join("&");
      const r = await call("GET", `/v1/kitchens/k1?${q}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {
        name: "kitchens/k1",
        i32: -5,
        i64: "9007199254740993",
        u32: 4000000000,
        u64: "18446744073709551615",
        dbl: 1.5,
        flt: "-Infinity",
        flag: true,
        data: "aGk+Pw==",
        color: "GREEN",
        tags: ["a", "b"],
        nums: [1, 2],
        inner: { id: "x", n: 3 },
        ttl: "3.500s",
        at: "2024-01-02T02:04:05.500Z",
        mask: "inner.id,pageSize",
        wrapped: 0,
        colors: ["RED", "GREEN"],
        fields: "f",
        pageSize: 9,
      });
    });

    it("rejects unknown, duplicated, path-bound and unconvertible parameters, naming them", async () => {
      const cases: [string, string][] = [
        ["/v1/operations?bogus=1", "bogus"],
        ["/v1/operations?name=operations", "name"],
        ["/v1/operations?pageSize=1&pageSize=2", "pageSize"],
        ["/v1/operations?pageSize=abc", "pageSize"],
        ["/v1/operations?pageSize=", "pageSize"],
        ["/v1/operations?returnPartialSuccess=yes", "returnPartialSuccess"],
        ["/v1/operations?filter.x=1", "filter.x"],
        ["/v1/kitchens/k?labels=a", "labels"],
        ["/v1/kitchens/k?inner=a", "inner"],
        ["/v1/kitchens/k?i32=99999999999", "i32"],
        ["/v1/kitchens/k?color=PURPLE", "color"],
        ["/v1/kitchens/k?ttl=forever", "ttl"],
        ["/v1/kitchens/k?inner.name=x", "inner.name"],
      ];
      for (const [path, field] of cases) {
        const r = await call("GET", path);
        const e = assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
        assert.ok(e.message.includes(`"${field}"`), `${path}: ${e.message}`);
        const bad = e.details.find((d: any) => d["@type"] === "type.googleapis.com/google.rpc.BadRequest");
        assert.equal(bad?.fieldViolations?.[0]?.field, field, `${path}: ${r.text}`);
      }
    });

    it("rejects field parameters on body \"*\" methods", async () => {
      const r = await call("POST", "/v1/demo:sleep?requestId=x", "{}");
      assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
    });

    it("accepts system parameters: $alt, $prettyPrint, $fields, key, access_token", async () => {
      let r = await call("GET", "/v1/kitchens/k?color=GREEN&colors=RED&$alt=json%3Benum-encoding=int");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { name: "kitchens/k", color: 2, colors: [1] });

      r = await call("GET", "/v1/kitchens/k?color=2&alt=json");
      assert.deepEqual(r.json, { name: "kitchens/k", color: "GREEN" });

      // gax's REST fallback: `$alt=json%3Benum-encoding=int` and `$prettyPrint=0`.
      r = await call("POST", "/v1/operations/abc:cancel?$alt=json%3Benum-encoding=int&$prettyPrint=0", "{}");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, "{}");

      r = await call("GET", "/v1/operations/abc?$fields=name&key=k&$access_token=t");
      assert.equal(r.status, 200, r.text);

      // A request field named like a system parameter is the field.
      r = await call("GET", "/v1/kitchens/k?fields=name");
      assert.deepEqual(r.json, { name: "kitchens/k", fields: "name" });

      for (const bad of ["$alt=xml", "alt=proto", "$alt=json;enum-encoding=str", "$prettyPrint=maybe", "$callback=f", "$foo=1"]) {
        r = await call("GET", `/v1/operations/abc?${bad}`);
        assertError(r, 400, "INVALID_ARGUMENT", Reason.MALFORMED_REQUEST);
      }
    });

    it("pretty-prints by default and not with $prettyPrint=false|0", async () => {
      let r = await call("GET", "/v1/operations/p1");
      assert.equal(r.text, JSON.stringify(r.json, null, 2) + "\n");
      assert.match(r.text, /\n  "name": "operations\/p1"/);
      for (const v of ["false", "0"]) {
        r = await call("GET", `/v1/operations/p1?$prettyPrint=${v}`);
        assert.equal(r.text, JSON.stringify(r.json));
        r = await call("GET", `/v1/operations/p1?prettyPrint=${v}`);
        assert.equal(r.text, JSON.stringify(r.json));
      }
      r = await call("GET", "/v1/operations/error/NOT_FOUND?$prettyPrint=0");
      assert.equal(r.text, JSON.stringify(r.json));
      r = await call("GET", "/v1/operations/error/NOT_FOUND");
      assert.equal(r.text, JSON.stringify(r.json, null, 2) + "\n");
    });

    it("writes only the response_body field when the rule names one", async () => {
      let r = await call("GET", "/v1/kitchens/k/inner?inner.id=i&inner.n=2");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { id: "i", n: 2 });
      r = await call("GET", "/v1/kitchens/k/inner");
      assert.deepEqual(r.json, {});
      r = await call("GET", "/v1/kitchens/k/flag");
      assert.equal(r.json, false);
      r = await call("GET", "/v1/kitchens/k/flag?flag=1");
      assert.equal(r.json, true);
    });
  });

  describe("errors", () => {
    it("maps each code to its HTTP status and name, with ErrorInfo", async () => {
      const table: [string, number][] = [
        ["CANCELLED", 499],
        ["UNKNOWN", 500],
        ["INVALID_ARGUMENT", 400],
        ["DEADLINE_EXCEEDED", 504],
        ["NOT_FOUND", 404],
        ["ALREADY_EXISTS", 409],
        ["PERMISSION_DENIED", 403],
        ["RESOURCE_EXHAUSTED", 429],
        ["FAILED_PRECONDITION", 400],
        ["ABORTED", 409],
        ["OUT_OF_RANGE", 400],
        ["UNIMPLEMENTED", 501],
        ["INTERNAL", 500],
        ["UNAVAILABLE", 503],
        ["DATA_LOSS", 500],
        ["UNAUTHENTICATED", 401],
      ];
      for (const [name, status] of table) {
        const r = await call("GET", `/v1/operations/error/${name}`);
        const e = assertError(r, status, name, "TEST_FAILURE");
        assert.equal(e.message, `failed with ${name}`);
        assert.deepEqual(e.details, [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "TEST_FAILURE",
            domain: DOMAIN,
            metadata: { name: `operations/error/${name}` },
          },
        ]);
      }
    });

    it("renders further details (BadRequest) as proto3 JSON", async () => {
      const r = await call("GET", "/v1/operations/invalid");
      const e = assertError(r, 400, "INVALID_ARGUMENT", Reason.INVALID_ARGUMENT);
      assert.equal(e.message, "name: is not valid");
      assert.deepEqual(e.details[1], {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        fieldViolations: [{ field: "name", description: "is not valid" }],
      });
    });

    it("answers a non-RpcError with 500 INTERNAL without leaking it, and logs it", async (t) => {
      const logged = t.mock.method(console, "error", () => {});
      const r = await call("GET", "/v1/operations/bug");
      const e = assertError(r, 500, "INTERNAL", Reason.INTERNAL);
      assert.ok(!r.text.includes("secret"), r.text);
      assert.equal(e.message, "Internal error.");
      assert.ok(logged.mock.calls.some((c) => c.arguments.some((a) => a instanceof Error && a.message === "secret-db-password")));
    });

    it("answers a response of the wrong type or one that cannot be encoded with 500", async (t) => {
      t.mock.method(console, "error", () => {});
      assertError(await call("GET", "/v1/operations/wrong-type"), 500, "INTERNAL");
      const r = await call("GET", "/v1/operations/bad-any");
      assertError(r, 500, "INTERNAL");
      assert.ok(!r.text.includes("not.Registered"));
    });

    it("answers unknown paths and unbound methods with 404 UNKNOWN_PATH", async () => {
      let r = await call("GET", "/v2/nothing/here");
      let e = assertError(r, 404, "NOT_FOUND", Reason.UNKNOWN_PATH);
      assert.match(e.message, /GET \/v2\/nothing\/here/);

      r = await call("GET", "/v1/demo:sleep");
      e = assertError(r, 404, "NOT_FOUND", Reason.UNKNOWN_PATH);
      assert.match(e.message, /GET \/v1\/demo:sleep/);
      assert.match(e.message, /POST/);

      r = await call("PUT", "/v1/operations/abc");
      assertError(r, 404, "NOT_FOUND", Reason.UNKNOWN_PATH);
    });
  });

  describe("limits and connections", () => {
    it("refuses a body over the limit with 413 REQUEST_TOO_LARGE and keeps serving", async () => {
      const big = JSON.stringify({ requestId: "x".repeat(2 * 1024 * 1024) });
      let r = await call("POST", "/v1/demo:sleep", big);
      let e = assertError(r, 413, "INVALID_ARGUMENT", Reason.REQUEST_TOO_LARGE);
      assert.equal(e.message, "Request payload size exceeds the limit: 1048576 bytes.");

      // Chunked, without Content-Length: counted while reading.
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      const rr = await raw("POST", "/v1/demo:sleep", {
        headers: { "content-type": "application/json" },
        chunks: [Buffer.from("{"), chunk, chunk, chunk, chunk, chunk, Buffer.from("}")],
      });
      assert.equal(rr.status, 413);
      assert.equal(JSON.parse(rr.text).error.details[0].reason, Reason.REQUEST_TOO_LARGE);

      r = await call("POST", "/v1/demo:sleep", JSON.stringify({ requestId: "small" }));
      assert.equal(r.status, 200, r.text);

      // Exactly at the limit is fine.
      const pad = 1024 * 1024 - JSON.stringify({ requestId: "" }).length;
      r = await call("POST", "/v1/demo:sleep", JSON.stringify({ requestId: "y".repeat(pad) }));
      assert.equal(r.status, 200, r.text.slice(0, 200));
    });

    it("honours a smaller maxBodyBytes", async () => {
      const small = await startRestServer({ endpoints, registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, maxBodyBytes: 10 });
      try {
        const res = await fetch(`${small.url}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ requestId: "0123456789" }) });
        const body = (await res.json()) as any;
        assert.equal(res.status, 413);
        assert.equal(body.error.message, "Request payload size exceeds the limit: 10 bytes.");
        const ok = await fetch(`${small.url}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        assert.equal(ok.status, 200);
        await ok.text();
      } finally {
        await small.close();
      }
    });

    it("aborts ctx.signal when the client disconnects", async () => {
      aborted = new Promise((resolve) => (resolveAborted = resolve));
      const ac = new AbortController();
      const pending = fetch(`${base}/v1/operations/slow`, { signal: ac.signal });
      // Wait until the endpoint has the call.
      for (let i = 0; i < 200 && calls.at(-1)?.request && (calls.at(-1)!.request as GetOperationRequest).name !== "operations/slow"; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const ctx = lastCall().ctx;
      assert.equal(ctx.transport, "rest");
      assert.equal(ctx.deadline, undefined);
      assert.equal(ctx.signal.aborted, false);
      ac.abort();
      await assert.rejects(pending);
      const reason = await aborted;
      assert.equal(ctx.signal.aborted, true);
      assert.ok(reason instanceof RpcError);
      assert.equal(reason.code, Code.CANCELLED);
      // Still serving.
      assert.equal((await call("GET", "/v1/operations/after")).status, 200);
    });

    it("does not abort the signal of a call that completed", async () => {
      await call("GET", "/v1/operations/done");
      assert.equal(lastCall().ctx.signal.aborted, false);
    });
  });
});
