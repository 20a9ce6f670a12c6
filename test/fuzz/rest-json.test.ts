/**
 * Protobuf JSON decoding of requests, over the real REST server: one startServer with the demo on SQLite,
 * real HTTP over loopback. Random JSON values (fast-check's jsonValue, and mutations of a valid Sleep
 * request) POSTed to /v1/demo:sleep with `Content-Type: application/json`, and GET query variants of the
 * Operations methods. Every answer is either a 200 with an Operation (or a list of them), or a 4xx JSON
 * google.rpc.Status envelope with an ErrorInfo: never 5xx, never a body that is not JSON. The server's log
 * (where it writes failures that are bugs) stays empty.
 */
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { startTestServer, type TestServer } from "../support/server.js";
import { closeHttpAgent, httpRequest, type HttpResult } from "../support/fuzz.js";
import { checkAsync } from "./config.js";

/** The HTTP properties send real requests: `LONGRUN_FUZZ_RUNS` is scaled by this. */
const SHARE = 0.05;

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t.close();
  closeHttpAgent();
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Problems with an answer, none when it is a 200 Operation/list or a 4xx Status envelope with an ErrorInfo. */
function problems(r: HttpResult, expectOk: (body: Record<string, unknown>) => boolean): string[] {
  const out: string[] = [];
  if (r.status >= 500 || r.status < 200) out.push(`HTTP ${r.status}`);
  if (!String(r.headers["content-type"] ?? "").startsWith("application/json")) out.push(`content-type ${String(r.headers["content-type"])}`);
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    return [...out, `not JSON: ${r.body.slice(0, 200)}`];
  }
  if (!isObject(body)) return [...out, `not an object: ${r.body.slice(0, 200)}`];
  if (r.status === 200) {
    if (!expectOk(body)) out.push(`200 but not the expected message: ${r.body.slice(0, 200)}`);
    return out;
  }
  if (r.status < 400 || r.status >= 500) out.push(`HTTP ${r.status} is neither 200 nor 4xx`);
  const e = body["error"];
  if (Object.keys(body).join() !== "error" || !isObject(e)) return [...out, `not a Status envelope: ${r.body.slice(0, 200)}`];
  if (e["code"] !== r.status) out.push(`error.code ${String(e["code"])} ≠ HTTP ${r.status}`);
  if (typeof e["message"] !== "string" || typeof e["status"] !== "string") out.push("error.message/status missing");
  const details = e["details"];
  const info = Array.isArray(details) ? details.find((d) => isObject(d) && d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo") : undefined;
  if (!isObject(info) || typeof info["reason"] !== "string" || info["domain"] !== "longrun.dev") out.push(`no ErrorInfo: ${r.body.slice(0, 300)}`);
  return out;
}

const isOperation = (b: Record<string, unknown>): boolean => typeof b["name"] === "string" && String(b["name"]).startsWith("operations/");

async function send(method: string, path: string, body?: string): Promise<HttpResult> {
  return httpRequest(t.url, { method, path, headers: { "content-type": "application/json" }, ...(body === undefined ? {} : { body }) });
}

// ---- Bodies ----

/** Short sleeps only: a valid request starts a real operation. */
const duration = fc.oneof(
  fc.constantFrom("0s", "0.001s", "0.01s", "-1s", "-0.5s", "86401s", "1e3s", "1.0000000001s", "s", "", "1", "PT1S", "0.001S", " 0s"),
  fc.integer({ min: -5, max: 5 }).map((n) => `${n / 1000}s`),
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.constant({ seconds: 0 }),
);
const status = fc.record(
  {
    code: fc.oneof(fc.integer({ min: -1, max: 17 }), fc.constantFrom("NOT_FOUND", "3", 2 ** 31, 1.5, null)),
    message: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
    details: fc.array(
      fc.oneof(
        fc.record({ "@type": fc.constant("type.googleapis.com/google.rpc.ErrorInfo"), reason: fc.string({ maxLength: 8 }), domain: fc.string({ maxLength: 8 }), metadata: fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxKeys: 2 }) }, { requiredKeys: ["@type"] }),
        fc.record({ "@type": fc.constantFrom("type.googleapis.com/google.protobuf.Duration", "type.googleapis.com/nope.Nope", "nope", ""), value: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()) }, { requiredKeys: [] }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);
const sleepRequest = fc.record(
  {
    duration,
    failWith: fc.oneof(status, fc.constant(null), fc.jsonValue({ maxDepth: 2 })),
    requestId: fc.oneof(fc.string({ maxLength: 70 }), fc.string({ unit: "binary", maxLength: 10 }), fc.integer(), fc.constant(null)),
    fail_with: status,
    request_id: fc.string({ maxLength: 10 }),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const jsonBody = fc
  .oneof({ weight: 3, arbitrary: sleepRequest as fc.Arbitrary<unknown> }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<unknown> })
  .map((v) => JSON.stringify(v) ?? "null");
/** Text-level mutations: duplicate keys, truncation, nesting, bytes that are not JSON. */
const body = fc.oneof(
  { weight: 5, arbitrary: jsonBody },
  { weight: 1, arbitrary: fc.tuple(jsonBody, fc.nat()).map(([j, n]) => j.slice(0, n % (j.length + 1))) },
  { weight: 1, arbitrary: fc.constantFrom('{"duration":"0s","duration":"0s"}', '{"requestId":"a","request_id":"a"}', '{"failWith":{"code":1,"code":2}}', "\uFEFF{}", "{}x", "[]", "null", "", "   ", "\u0000") },
  { weight: 1, arbitrary: fc.nat({ max: 2000 }).map((n) => `${'{"failWith":'.repeat(n)}null${"}".repeat(n)}`) },
  { weight: 1, arbitrary: fc.nat({ max: 2000 }).map((n) => "[".repeat(n) + "]".repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);

it("POST /v1/demo:sleep with random JSON: a 200 Operation or a 4xx Status, nothing else", async () => {
  const before = t.logged.length;
  await checkAsync(
    fc.asyncProperty(body, fc.constantFrom("", "?$alt=json", "?alt=json;enum-encoding=int", "?requestId=x", "?$prettyPrint=false", "?key="), async (b, q) => {
      const r = await send("POST", `/v1/demo:sleep${q}`, b);
      assert.deepEqual(problems(r, isOperation), [], `POST /v1/demo:sleep${q} ${JSON.stringify(b.slice(0, 300))} → ${r.status} ${r.body.slice(0, 300)}`);
    }),
    500,
    SHARE,
  );
  assert.deepEqual(t.logged.slice(before), [], "the server logged failures");
});

// ---- Query strings ----

const paramName = fc.oneof(
  fc.constantFrom("filter", "pageSize", "page_size", "pageToken", "page_token", "returnPartialSuccess", "name", "timeout", "timeout.seconds", "$alt", "alt", "$prettyPrint", "fields", "key", "access_token", "$x", "", "filter.x", "pageSize.", "requestId"),
  fc.string({ maxLength: 8 }),
);
const paramValue = fc.oneof(
  fc.constantFrom("", "done = true", "done = false AND name : \"a\"", "(", "metadata.x > 1", "1", "0", "-1", "1001", "2147483648", "1e2", "true", "maybe", "json", "proto", "%", "1s"),
  fc.string({ maxLength: 30 }),
  fc.nat({ max: 3000 }).map((n) => "a".repeat(n)),
);
const queryString = fc.oneof(
  fc.array(fc.tuple(paramName, paramValue), { maxLength: 5 }).map((ps) => new URLSearchParams(ps).toString()),
  fc.array(fc.tuple(paramName, fc.string({ maxLength: 8 })), { maxLength: 3 }).map((ps) => ps.map(([k, v]) => `${encodeURIComponent(k)}=${v.replace(/[^\x21-\x7e]/g, "")}`).join("&")),
);
const target = fc.constantFrom(
  ["GET", "/v1/operations", (b: Record<string, unknown>) => !("error" in b)],
  ["GET", "/v1/operations/nope", isOperation],
  ["GET", "/v1/operations/operations%2Fnope", isOperation],
  ["DELETE", "/v1/operations/nope", (b: Record<string, unknown>) => Object.keys(b).length === 0],
  ["POST", "/v1/operations/nope:cancel", (b: Record<string, unknown>) => Object.keys(b).length === 0],
  ["POST", "/v1/operations/nope:wait", isOperation],
) as fc.Arbitrary<readonly [string, string, (b: Record<string, unknown>) => boolean]>;

it("the Operations methods with random query strings: a 200 or a 4xx Status, nothing else", async () => {
  const before = t.logged.length;
  await checkAsync(
    fc.asyncProperty(target, queryString, async ([method, path, ok], q) => {
      const url = q === "" ? path : `${path}?${q}`;
      const r = await send(method, url, method === "POST" ? "{}" : undefined);
      assert.deepEqual(problems(r, ok), [], `${method} ${url} → ${r.status} ${r.body.slice(0, 300)}`);
    }),
    500,
    SHARE,
  );
  assert.deepEqual(t.logged.slice(before), [], "the server logged failures");
});
