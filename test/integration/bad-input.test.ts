/**
 * Bad input is answered, not crashed on.
 *
 * A few hundred generated bad requests (templates × mutations, from a seeded PRNG: the seed is printed, and
 * `LONGRUN_FUZZ_SEED=<seed>` replays a run) go to both transports of one real server. Each must get a
 * client-error answer that is a proper google.rpc.Status:
 * - REST: HTTP 4xx (or 501 UNIMPLEMENTED), body exactly `{"error": {code, message, status, details}}` with
 *   `code` = the HTTP status, `status` a google.rpc.Code name whose HTTP mapping is that status, and an
 *   ErrorInfo (domain longrun.dev) in `details`; the specific status / reason where the spec fixes it.
 * - gRPC: never UNKNOWN/INTERNAL/DEADLINE_EXCEEDED (every call has a deadline: running into it is a hang),
 *   and `grpc-status-details-bin` decodes to a google.rpc.Status with the same code and an ErrorInfo — except
 *   where grpc-js answers by itself (unknown method, oversized message).
 * Then raw-socket abuses of the HTTP server, and a check that both transports still serve a normal
 * Sleep → Wait → done.
 *
 * Documented differences from "every error carries an ErrorInfo":
 * - gRPC calls to an unknown method and messages over the 4 MiB limit are answered by grpc-js itself
 *   (UNIMPLEMENTED / RESOURCE_EXHAUSTED) before longrun sees them: no status details.
 * - Malformed HTTP (bad request line, bad headers, header block over 16 KiB, bad chunking) never reaches
 *   the service: node's HTTP parser refuses it, and longrun's clientError listener answers 400/431 with a
 *   Status envelope (test/transport/uploads.test.ts checks those bodies).
 * - HEAD answers carry no body, so only their status is checked.
 *
 * The bugs this test found are kept at the end as regression tests.
 */
import { describe, it, before, after } from "node:test";
import { gzipSync } from "node:zlib";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  Operations,
  CancelOperationRequestSchema,
  DeleteOperationRequestSchema,
  GetOperationRequestSchema,
  ListOperationsRequestSchema,
  WaitOperationRequestSchema,
} from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { callError, type CallError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { closeHttpAgent, fuzzSeed, httpRequest, mapLimit, rawExchange, Rng, type HttpResult, type RawStep } from "../support/fuzz.js";

const SEED = fuzzSeed();
console.log(`bad-input: seed ${SEED} (replay with LONGRUN_FUZZ_SEED=${SEED})`);

const DOMAIN = "longrun.dev";
const CONCURRENCY = 8;
/** A call that takes longer than this is a hang. */
const HANG_MS = 10_000;

/** google.rpc.Code name → number and HTTP status (google/rpc/code.proto; spec §2.2). */
const CODES: Record<string, { code: number; http: number }> = {
  OK: { code: 0, http: 200 },
  CANCELLED: { code: 1, http: 499 },
  UNKNOWN: { code: 2, http: 500 },
  INVALID_ARGUMENT: { code: 3, http: 400 },
  DEADLINE_EXCEEDED: { code: 4, http: 504 },
  NOT_FOUND: { code: 5, http: 404 },
  ALREADY_EXISTS: { code: 6, http: 409 },
  PERMISSION_DENIED: { code: 7, http: 403 },
  RESOURCE_EXHAUSTED: { code: 8, http: 429 },
  FAILED_PRECONDITION: { code: 9, http: 400 },
  ABORTED: { code: 10, http: 409 },
  OUT_OF_RANGE: { code: 11, http: 400 },
  UNIMPLEMENTED: { code: 12, http: 501 },
  INTERNAL: { code: 13, http: 500 },
  UNAVAILABLE: { code: 14, http: 503 },
  DATA_LOSS: { code: 15, http: 500 },
  UNAUTHENTICATED: { code: 16, http: 401 },
};
const G = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
} as const;
/** gRPC codes that are never a fair answer to a client's mistake. */
const FORBIDDEN_GRPC = new Map([
  [2, "UNKNOWN"],
  [4, "DEADLINE_EXCEEDED (a hang: every call here has a deadline)"],
  [13, "INTERNAL"],
  [14, "UNAVAILABLE"],
  [15, "DATA_LOSS"],
]);

// ErrorInfo reasons (src/core/errors.ts `Reason`).
const R_INVALID_ARGUMENT = "INVALID_ARGUMENT";
const R_INVALID_NAME = "INVALID_NAME";
const R_NOT_FOUND = "OPERATION_NOT_FOUND";
const R_PAGE_SIZE = "INVALID_PAGE_SIZE";
const R_PAGE_TOKEN = "INVALID_PAGE_TOKEN";
const R_FILTER = "INVALID_FILTER";
const R_UNIMPLEMENTED = "UNIMPLEMENTED";
const R_MALFORMED = "MALFORMED_REQUEST";
const R_TOO_LARGE = "REQUEST_TOO_LARGE";
const R_UNSUPPORTED = "UNSUPPORTED_MEDIA_TYPE";
const R_UNKNOWN_PATH = "UNKNOWN_PATH";

const ops = Operations.method;
const KiB = 1024;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Cases

interface RestCase {
  transport: "rest";
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Acceptable HTTP statuses. */
  status: readonly number[];
  /** Acceptable ErrorInfo reasons, when the spec fixes them. */
  reason?: readonly string[];
}

interface GrpcCase {
  transport: "grpc";
  label: string;
  path: string;
  bytes: Buffer;
  /** Acceptable gRPC codes. */
  code: readonly number[];
  reason?: readonly string[];
  /** false: grpc-js answers this itself, without google.rpc.Status details. */
  statusDetails?: boolean;
}

type Case = RestCase | GrpcCase;

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const WEIRD = [
  " ", "/", "%", ".", ":", "?", "#", "\\", '"', "'", "<", ">", "\u0000", "\u0001", "\n", "\r", "\t", "\u007f",
  "é", "ß", "中", "😀", "\u202e", "\u200b", "\ufeff", "+", "=", "&", "~", "*", "@", "!", "$", "(", ")", "[", "]",
  "{", "}", "|", "^", "`", ",", ";", "%2F", "%00", "..",
];
const UNICODE_POOL = [..."aZ09_-/.:é中😀ßñ\u0301\u202e\u200b\ufeff\u00a0 \t\u0000Ω𝔘"];
const OTHER_COLLECTIONS = ["transferOperations", "Operations", "OPERATIONS", "operation", "ops", "projects", "x", "v1", "demo"];
const PARENTS = ["projects/p", "projects/p/locations/l", "projects/-", "folders/1", "operations/x"];

function randomId(rng: Rng, length = 22): string {
  return rng.string(length, ID_ALPHABET);
}

const OPERATION_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** What the server accepts as a name: `operations/{id}` (the default OperationNames). */
function wellFormed(name: string): boolean {
  const segs = name.split("/");
  return segs.length === 2 && segs[0] === "operations" && OPERATION_ID.test(segs[1]!);
}

const FIXED_BAD_NAMES: readonly string[] = [
  "",
  "operations",
  "operations/",
  "/operations/abc",
  "operations//abc",
  "operations/abc/",
  "operations/a/b",
  "projects/p/operations/x",
  "projects/p/locations/l/operations/x",
  "x/y",
  "transferOperations/abc",
  "OPERATIONS/abc",
  " operations/abc",
  "operations/abc ",
  "operations/with space",
  "operations/ünïcödé",
  "operations/😀",
  "operations/a.b",
  "operations/..",
  "operations/.",
  "operations/abc%2Fdef",
  "operations/a\u0000b",
  "operations/a\nb",
  "operations/a\u202eb",
  `operations/${"a".repeat(129)}`,
  `operations/${"a".repeat(10 * KiB)}`,
  "a".repeat(10 * KiB),
  "operations/abc?x=1",
  "operations/abc#frag",
  "operations/abc:cancel",
  "operations/*",
  "operations/%",
  // Well-formed but unknown: NOT_FOUND.
  "operations/abcdef",
  `operations/${"Z".repeat(128)}`,
  "operations/-",
];

/** A bad (or well-formed but unknown) operation name, by mutating a valid one. */
function randomName(rng: Rng): string {
  const id = randomId(rng, rng.int(1, 30));
  const valid = `operations/${id}`;
  switch (rng.int(0, 11)) {
    case 0: {
      const at = rng.int(0, valid.length);
      return valid.slice(0, at) + rng.pick(WEIRD) + valid.slice(at);
    }
    case 1:
      return `${rng.pick(OTHER_COLLECTIONS)}/${id}`;
    case 2:
      return `${valid}/${randomId(rng, rng.int(0, 8))}`;
    case 3:
      return `${rng.pick(PARENTS)}/${valid}`;
    case 4:
      return `operations/${randomId(rng, rng.int(129, 12 * KiB))}`;
    case 5:
      return id;
    case 6:
      return rng.string(rng.int(0, 40), UNICODE_POOL);
    case 7: {
      const at = rng.int("operations/".length, valid.length - 1);
      return valid.slice(0, at) + rng.pick(WEIRD) + valid.slice(at + 1);
    }
    case 8:
      return rng.pick([" ", "\t", "\n", "\u00a0"]) + valid + rng.pick(["", " ", "\n"]);
    case 9:
      return rng.pick([`operations//${id}`, `${valid}/`, `operations/${id}//`, `//${valid}`, "operations/", "/"]);
    case 10:
      return valid; // well-formed, unknown: NOT_FOUND
    default:
      return rng.pick(["Operations", "OPERATIONS", "operations ", "0perations"]) + "/" + id;
  }
}

const encodeSegments = (name: string): string => name.split("/").map(encodeURIComponent).join("/");

// ---- gRPC case builders ----

function grpcCase<I extends DescMessage>(
  label: string,
  method: { parent: { typeName: string }; name: string; input: I },
  init: MessageInitShape<I>,
  code: readonly number[],
  reason?: readonly string[],
): GrpcCase {
  const bytes = Buffer.from(toBinary(method.input, create(method.input, init)));
  return { transport: "grpc", label, path: `/${method.parent.typeName}/${method.name}`, bytes, code, reason };
}

const NAMED_METHODS = [
  { m: ops.getOperation, schema: GetOperationRequestSchema, extra: {} },
  { m: ops.deleteOperation, schema: DeleteOperationRequestSchema, extra: {} },
  { m: ops.cancelOperation, schema: CancelOperationRequestSchema, extra: {} },
  { m: ops.waitOperation, schema: WaitOperationRequestSchema, extra: { timeout: durationFromMs(100) } },
] as const;

function grpcNameCase(name: string, which: (typeof NAMED_METHODS)[number]): GrpcCase {
  const ok = wellFormed(name);
  return grpcCase(
    `name ${which.m.name} ${JSON.stringify(name)}`,
    which.m as unknown as typeof ops.getOperation,
    { name, ...which.extra } as never,
    [ok ? G.NOT_FOUND : G.INVALID_ARGUMENT],
    [ok ? R_NOT_FOUND : R_INVALID_NAME],
  );
}

// Protobuf tails that make any message undecodable.
const UNDECODABLE_TAILS: readonly number[][] = [
  [0x0a, 0x7f], // length-delimited field 1, length beyond the end
  [0x08], // tag, then no varint
  [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // varint longer than 10 bytes
  [0x0f], // wire type 7
  [0x0e], // wire type 6
  [0x00], // field number 0
  [0x0b], // start group without its end
  [0x0c], // end group without a start
  [0xfa, 0xff, 0xff, 0xff, 0x0f, 0x05], // huge field number, length 5, nothing follows
];

function decodes(schema: DescMessage, bytes: Uint8Array): boolean {
  try {
    fromBinary(schema, bytes);
    return true;
  } catch {
    return false;
  }
}

// ---- REST case builders ----

function restNameCase(name: string, method: "GET" | "DELETE" | "CANCEL" | "WAIT"): RestCase | undefined {
  const segs = name.split("/");
  if (method === "GET" && name === "operations") return undefined; // GET /v1/operations is ListOperations
  const routed = segs[0] === "operations" && segs.slice(1).every((s) => s !== "") && (method !== "GET" || segs.length >= 2);
  const path = `/v1/${encodeSegments(name)}`;
  const status = !routed ? 404 : wellFormed(name) ? 404 : 400;
  const reason = !routed ? R_UNKNOWN_PATH : wellFormed(name) ? R_NOT_FOUND : R_INVALID_NAME;
  const base = { transport: "rest" as const, label: `name ${method} ${JSON.stringify(name)}`, status: [status], reason: [reason] };
  switch (method) {
    case "GET":
      return { ...base, method: "GET", path };
    case "DELETE":
      return { ...base, method: "DELETE", path };
    case "CANCEL":
      return { ...base, method: "POST", path: `${path}:cancel`, body: "{}" };
    case "WAIT":
      return { ...base, method: "POST", path: `${path}:wait`, body: '{"timeout":"0.1s"}' };
  }
}

function rest(label: string, method: string, path: string, body: string | Buffer | undefined, status: readonly number[], reason?: readonly string[], headers?: Record<string, string>): RestCase {
  return { transport: "rest", label, method, path, body, status, reason, headers };
}

const SLEEP = "/v1/demo:sleep";
const bad400 = (label: string, body: string | Buffer, reason: string, path = SLEEP, method = "POST"): RestCase =>
  rest(label, method, path, body, [reason === R_TOO_LARGE ? 413 : 400], [reason]);

function nest(depth: number, open: string, close: string, inner: string): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

// Values of the wrong type / out of range for each SleepRequest field (REST JSON), with the reason expected.
const BAD_SLEEP_FIELDS: readonly [field: string, value: string, reason: string][] = [
  ["duration", '"-1s"', R_INVALID_ARGUMENT],
  ["duration", '"-0.000000001s"', R_INVALID_ARGUMENT],
  ["duration", '"86400.001s"', R_INVALID_ARGUMENT],
  ["duration", '"86400.000000001s"', R_INVALID_ARGUMENT],
  ["duration", '"315576000000s"', R_INVALID_ARGUMENT],
  ["duration", '"-315576000000s"', R_INVALID_ARGUMENT],
  ["duration", '"315576000001s"', R_MALFORMED],
  ["duration", "5", R_MALFORMED],
  ["duration", '"abc"', R_MALFORMED],
  ["duration", '"5"', R_MALFORMED],
  ["duration", '"1m"', R_MALFORMED],
  ["duration", '""', R_MALFORMED],
  ["duration", '"s"', R_MALFORMED],
  ["duration", '{"seconds":1}', R_MALFORMED],
  ["duration", "true", R_MALFORMED],
  ["duration", "[]", R_MALFORMED],
  ["duration", '"1.0000000001s"', R_MALFORMED],
  ["failWith", '"x"', R_MALFORMED],
  ["failWith", "5", R_MALFORMED],
  ["failWith", "[]", R_MALFORMED],
  ["failWith", '{"code":0}', R_INVALID_ARGUMENT],
  ["failWith", '{"code":99}', R_INVALID_ARGUMENT],
  ["failWith", '{"code":-1}', R_INVALID_ARGUMENT],
  ["failWith", '{"code":17}', R_INVALID_ARGUMENT],
  ["failWith", '{"code":2147483647}', R_INVALID_ARGUMENT],
  ["failWith", '{"code":2147483648}', R_MALFORMED],
  ["failWith", '{"code":"abc"}', R_MALFORMED],
  ["failWith", '{"code":3.5}', R_MALFORMED],
  ["failWith", '{"code":1e20}', R_MALFORMED],
  ["failWith", '{"code":3,"message":5}', R_MALFORMED],
  ["failWith", '{"code":3,"details":"x"}', R_MALFORMED],
  ["failWith", '{"code":3,"details":[5]}', R_MALFORMED],
  ["failWith", '{"code":3,"details":[{"@type":"type.googleapis.com/nope.Nope"}]}', R_MALFORMED],
  ["failWith", '{"code":3,"details":[{"@type":"nonsense"}]}', R_MALFORMED],
  ["failWith", '{"code":3,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":5}]}', R_MALFORMED],
  ["failWith", '{"code":3,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","bogus":1}]}', R_MALFORMED],
  ["failWith", '{"code":3,"bogus":true}', R_MALFORMED],
  ["fail_with", '{"code":0}', R_INVALID_ARGUMENT],
  ["requestId", JSON.stringify("a".repeat(65)), R_INVALID_ARGUMENT],
  ["requestId", JSON.stringify("a\u0001b"), R_INVALID_ARGUMENT],
  ["requestId", JSON.stringify("a\nb"), R_INVALID_ARGUMENT],
  ["requestId", JSON.stringify("é"), R_INVALID_ARGUMENT],
  ["requestId", JSON.stringify(" "), R_INVALID_ARGUMENT],
  ["request_id", JSON.stringify("a b"), R_INVALID_ARGUMENT],
  ["requestId", "5", R_MALFORMED],
  ["requestId", '["a"]', R_MALFORMED],
  ["requestId", "{}", R_MALFORMED],
  ["requestId", "true", R_MALFORMED],
];

const UNKNOWN_KEYS = ["bogus", "durationn", "Duration", "failwith", "requestID", "name", "@type", "", "__proto__", "constructor", "toString", "slept", "1"];

const INVALID_JSON: readonly (string | Buffer)[] = [
  "{",
  "}",
  "{'duration':'1s'}",
  '{"duration":"1s",}',
  '{duration:"1s"}',
  '{"duration":"1s"}x',
  '{"duration":"1s"}{}',
  "NaN",
  "undefined",
  "\u0000",
  '{"requestId":"a\u0000"}', // raw control character in a JSON string
  "duration=1s",
  Buffer.from([0x7b, 0xff, 0x7d]), // not UTF-8
  Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]), // overlong UTF-8
  Buffer.from('{"duration":"1s"}', "utf16le"),
  "[".repeat(50_000),
  "{".repeat(50_000),
];

const TOP_LEVEL_NOT_OBJECT = ["null", "[]", '"str"', "42", "true", '[{"duration":"1s"}]', "-0", '"{}"'];

const BAD_FILTERS = [
  'nmae = "x"',
  "done",
  "done = maybe",
  "done = TRUE",
  "done == true",
  "done = 1",
  "done=true AND done.x=false",
  "NOT done",
  "done = true OR",
  "(",
  '"',
  "metadata.@type.x = y",
  'metadata.progress_percent > "five"',
  'create_time > "yesterday"',
  "done < true",
  'name = "x" AND fn(1)',
  "(".repeat(40) + "done = true" + ")".repeat(40),
  "a".repeat(5 * KiB),
  "完成 = 是",
  "done = true\u0000",
];

// ---------------------------------------------------------------------------------------------------------

interface Tokens {
  /** A real page token for name "operations", filter "". */
  plain: string;
  /** A real page token for filter "done = true". */
  doneTrue: string;
}

function buildCases(rng: Rng, tokens: Tokens): { rest: RestCase[]; grpc: GrpcCase[] } {
  const restCases: RestCase[] = [];
  const grpcCases: GrpcCase[] = [];
  const addRest = (c: RestCase | undefined): void => {
    if (c) restCases.push(c);
  };

  // ---- names: fixed × 2 methods per transport, plus random ----
  const restMethods = ["GET", "DELETE", "CANCEL", "WAIT"] as const;
  for (const name of FIXED_BAD_NAMES) {
    for (const m of [rng.pick(restMethods), rng.pick(restMethods)]) addRest(restNameCase(name, m));
    for (const m of [rng.pick(NAMED_METHODS), rng.pick(NAMED_METHODS)]) grpcCases.push(grpcNameCase(name, m));
  }
  for (let i = 0; i < 45; i++) addRest(restNameCase(randomName(rng), rng.pick(restMethods)));
  for (let i = 0; i < 45; i++) grpcCases.push(grpcNameCase(randomName(rng), rng.pick(NAMED_METHODS)));

  // ---- bogus page tokens ----
  // Flips a character to one differing in its high bits. Not the last character of either part: there a
  // base64url character may carry padding bits only, and changing those leaves the same token.
  const flip = (s: string, at: number): string => s.slice(0, at) + (s[at] === "A" ? "g" : "A") + s.slice(at + 1);
  const flipInside = (token: string): string => {
    const dot = token.indexOf(".");
    let at: number;
    do at = rng.int(0, token.length - 2);
    while (at === dot || at === dot - 1);
    return flip(token, at);
  };
  const [pBody, pMac] = tokens.plain.split(".") as [string, string];
  const [dBody, dMac] = tokens.doneTrue.split(".") as [string, string];
  const badTokens: [token: string, filter: string][] = [
    ["bogus", ""],
    ["a.b", ""],
    [".", ""],
    ["x.y.z", ""],
    [flip(tokens.plain, 0), ""],
    [flip(tokens.plain, tokens.plain.length - 2), ""],
    [flip(tokens.plain, tokens.plain.indexOf(".") - 2), ""],
    [flipInside(tokens.plain), ""],
    [flipInside(tokens.doneTrue), "done = true"],
    [`${pBody}.${dMac}`, ""],
    [`${dBody}.${pMac}`, ""],
    [`${tokens.plain}.x`, ""],
    [tokens.plain, "done = true"], // issued for another filter
    [tokens.doneTrue, ""],
    [tokens.doneTrue, "done = false"],
    [Buffer.from('{"v":1,"t":0,"i":"x","q":"x","e":9e15}').toString("base64url") + ".AAAAAAAAAAAAAAAAAAAAAA", ""],
    [randomId(rng, 10 * KiB), ""],
    [rng.string(rng.int(1, 60), UNICODE_POOL), ""],
    [Buffer.from(rng.bytes(rng.int(1, 64))).toString("base64url") + "." + Buffer.from(rng.bytes(16)).toString("base64url"), ""],
  ];
  for (const [token, filter] of badTokens) {
    grpcCases.push(grpcCase(`list token ${JSON.stringify(token.slice(0, 40))} filter ${JSON.stringify(filter)}`, ops.listOperations, { name: "operations", pageToken: token, filter }, [G.INVALID_ARGUMENT], [R_PAGE_TOKEN]));
    const q = new URLSearchParams({ [rng.pick(["pageToken", "page_token"])]: token });
    if (filter) q.set("filter", filter);
    restCases.push(rest(`list token ${JSON.stringify(token.slice(0, 40))}`, "GET", `/v1/operations?${q}`, undefined, [400], [R_PAGE_TOKEN]));
  }

  // ---- list: names, page sizes, filters, partial success ----
  for (const name of ["", "operations/", "operations/x", "projects/p", "Operations", " operations", "operations ", "x", "a".repeat(10 * KiB), "opérations"]) {
    grpcCases.push(grpcCase(`list name ${JSON.stringify(name.slice(0, 40))}`, ops.listOperations, { name }, [G.INVALID_ARGUMENT], [R_INVALID_NAME]));
  }
  for (const pageSize of [-1, -2, -2147483648, -rng.int(1, 2 ** 31 - 1)]) {
    grpcCases.push(grpcCase(`list pageSize ${pageSize}`, ops.listOperations, { name: "operations", pageSize }, [G.INVALID_ARGUMENT], [R_PAGE_SIZE]));
    restCases.push(rest(`list pageSize ${pageSize}`, "GET", `/v1/operations?${rng.pick(["pageSize", "page_size"])}=${pageSize}`, undefined, [400], [R_PAGE_SIZE]));
  }
  for (const filter of BAD_FILTERS) {
    grpcCases.push(grpcCase(`list filter ${JSON.stringify(filter.slice(0, 40))}`, ops.listOperations, { name: "operations", filter }, [G.INVALID_ARGUMENT], [R_FILTER]));
    restCases.push(rest(`list filter ${JSON.stringify(filter.slice(0, 40))}`, "GET", `/v1/operations?${new URLSearchParams({ filter })}`, undefined, [400], [R_FILTER]));
  }
  for (let i = 0; i < 6; i++) {
    const filter = rng.string(rng.int(1, 30), UNICODE_POOL);
    if (filter.trim() === "" || /^\s*done\s*=\s*(true|false)\s*$/.test(filter)) continue;
    grpcCases.push(grpcCase(`list random filter ${JSON.stringify(filter)}`, ops.listOperations, { name: "operations", filter }, [G.INVALID_ARGUMENT], [R_FILTER]));
  }
  grpcCases.push(grpcCase("list returnPartialSuccess", ops.listOperations, { name: "operations", returnPartialSuccess: true }, [G.UNIMPLEMENTED], [R_UNIMPLEMENTED]));
  // Which check wins when several fields are bad is not specified: any of their answers will do.
  grpcCases.push(grpcCase("list everything bad", ops.listOperations, { name: "x", pageSize: -1, filter: "(", pageToken: "z", returnPartialSuccess: true }, [G.INVALID_ARGUMENT, G.UNIMPLEMENTED]));
  for (const q of ["returnPartialSuccess=true", "return_partial_success=1", "returnPartialSuccess=true&$prettyPrint=false", "returnPartialSuccess=true&$alt=json"]) {
    restCases.push(rest(`list ${q}`, "GET", `/v1/operations?${q}`, undefined, [501], [R_UNIMPLEMENTED]));
  }
  const malformedQueries = [
    "pageSize=abc",
    "pageSize=1.5",
    "pageSize=99999999999",
    "pageSize=-2147483649",
    "pageSize=",
    "pageSize=true",
    "pageSize=1&pageSize=2",
    "page_size=1&pageSize=2",
    "filter=a&filter=b",
    "returnPartialSuccess=yes",
    "returnPartialSuccess=TRUE",
    "returnPartialSuccess=2",
    "foo=1",
    "pageSizee=1",
    "operations=1",
    "name=operations",
    "name=x",
    "filter.x=1",
    "pageSize.x=1",
    "name.x=1",
    "=x",
    "$foo=1",
    "$alt=xml",
    "$alt=proto",
    "alt=xml",
    "$alt=json;enum-encoding=string",
    "$prettyPrint=yes",
    "prettyPrint=2",
    "$prettyPrint=",
    "$=1",
    "%24alt=xml",
    "$alt=json&bogus=1",
    "$prettyPrint=false&pageSize=x",
  ];
  for (const q of malformedQueries) restCases.push(rest(`list ?${q}`, "GET", `/v1/operations?${q}`, undefined, [400], [R_MALFORMED]));
  restCases.push(rest("list ?$alt=json + bad token", "GET", "/v1/operations?$alt=json&pageToken=zzz", undefined, [400], [R_PAGE_TOKEN]));
  restCases.push(rest("list ?$prettyPrint=false + bad page size", "GET", "/v1/operations?$prettyPrint=false&pageSize=-3", undefined, [400], [R_PAGE_SIZE]));
  restCases.push(rest("list with 1000 query parameters", "GET", `/v1/operations?${"pageSize=1&".repeat(1000)}`, undefined, [400], [R_MALFORMED]));
  restCases.push(rest("list with a body", "GET", "/v1/operations", '{"pageSize":1}', [400], [R_MALFORMED]));
  restCases.push(rest("get with a body", "GET", "/v1/operations/abc", "x", [400], [R_MALFORMED]));
  restCases.push(rest("delete with a body", "DELETE", "/v1/operations/abc", "[1]", [400], [R_MALFORMED]));
  // Random query strings: one unknown parameter among valid ones.
  for (let i = 0; i < 10; i++) {
    const params = [rng.pick(["$prettyPrint=false", "$alt=json", "pageSize=5", "filter=done%20%3D%20true"])];
    params.push(`${encodeURIComponent(rng.string(rng.int(1, 12), "abcdefghijklmnopqrstuvwxyz_"))}x=${encodeURIComponent(rng.string(rng.int(0, 8), UNICODE_POOL))}`);
    if (rng.bool()) params.reverse();
    restCases.push(rest(`list random unknown param ?${params.join("&")}`, "GET", `/v1/operations?${params.join("&")}`, undefined, [400], [R_MALFORMED]));
  }

  // ---- Sleep over gRPC ----
  const sleep = (label: string, init: MessageInitShape<typeof SleepRequestSchema>, reason = R_INVALID_ARGUMENT): GrpcCase =>
    grpcCase(`sleep ${label}`, Demo.method.sleep, init, [G.INVALID_ARGUMENT], [reason]);
  grpcCases.push(
    sleep("duration -1s", { duration: { seconds: -1n } }),
    sleep("duration -1ns", { duration: { nanos: -1 } }),
    sleep("duration 1s -1ns (mixed signs)", { duration: { seconds: 1n, nanos: -1 } }),
    sleep("duration min int64", { duration: { seconds: -(2n ** 63n) } }),
    sleep("duration max int64", { duration: { seconds: 2n ** 63n - 1n } }),
    sleep("duration 86401s", { duration: { seconds: 86_401n } }),
    sleep("duration 86400s+1ms", { duration: { seconds: 86_400n, nanos: 1_000_000 } }),
    sleep("duration 86400s+1ns", { duration: { seconds: 86_400n, nanos: 1 } }),
    sleep("duration 2^62 s", { duration: { seconds: 2n ** 62n } }),
    // Not valid google.protobuf.Durations (nanos beyond ±999,999,999, or of the other sign, or seconds beyond
    // ±315,576,000,000). Was a bug: {nanos: 1.5e9} was accepted and slept 1.5 s.
    sleep("duration nanos 1e9", { duration: { nanos: 1_000_000_000 } }),
    sleep("duration nanos 1.5e9", { duration: { nanos: 1_500_000_000 } }),
    sleep("duration -1s +5ns (mixed signs)", { duration: { seconds: -1n, nanos: 5 } }),
    sleep("duration 315576000001s", { duration: { seconds: 315_576_000_001n } }),
    sleep(`duration -${"random"}`, { duration: { seconds: -BigInt(rng.int(1, 2 ** 31)) } }),
    sleep("duration > 24h random", { duration: { seconds: BigInt(rng.int(86_401, 2 ** 31)) } }),
  );
  for (const code of [0, 17, 99, -1, 2 ** 31 - 1, -(2 ** 31), rng.int(17, 2 ** 31 - 1)]) {
    grpcCases.push(sleep(`failWith.code ${code}`, { failWith: { code, message: "x" } }));
  }
  for (const requestId of [
    "a".repeat(65),
    "a".repeat(rng.int(66, 5000)),
    "a\u0000b",
    "a\u007fb",
    "a\tb",
    "a b",
    "é",
    "😀",
    "\n",
    rng.string(rng.int(1, 40), UNICODE_POOL.filter((c) => !/^[\x21-\x7e]$/.test(c))),
  ]) {
    grpcCases.push(sleep(`requestId ${JSON.stringify(requestId.slice(0, 30))}`, { requestId }));
  }

  // ---- Wait timeouts over gRPC (a well-formed unknown name: the timeout is checked first) ----
  for (const [label, timeout] of [
    ["-1s", { seconds: -1n }],
    ["-1ns", { nanos: -1 }],
    ["1s -1ns", { seconds: 1n, nanos: -1 }],
    ["nanos 1e9", { nanos: 1_000_000_000 }],
    ["nanos 2^31-1", { nanos: 2 ** 31 - 1 }],
    ["seconds 315576000001", { seconds: 315_576_000_001n }],
    ["min int64", { seconds: -(2n ** 63n) }],
    ["random negative", { seconds: -BigInt(rng.int(1, 2 ** 31)) }],
  ] as const) {
    grpcCases.push(grpcCase(`wait timeout ${label}`, ops.waitOperation, { name: `operations/${randomId(rng)}`, timeout }, [G.INVALID_ARGUMENT], [R_INVALID_ARGUMENT]));
  }

  // ---- undecodable bytes, every method ----
  const allMethods = [ops.getOperation, ops.listOperations, ops.deleteOperation, ops.cancelOperation, ops.waitOperation, Demo.method.sleep];
  for (const m of allMethods) {
    for (const tail of [rng.pick(UNDECODABLE_TAILS), rng.pick(UNDECODABLE_TAILS), rng.pick(UNDECODABLE_TAILS)]) {
      // A valid message, then a tail that cannot be decoded.
      const valid = m === Demo.method.sleep
        ? toBinary(SleepRequestSchema, create(SleepRequestSchema, { duration: { seconds: 0n } }))
        : toBinary(m.input, create(m.input, { name: `operations/${randomId(rng)}` } as never));
      const bytes = Buffer.concat([Buffer.from(valid), Buffer.from(tail)]);
      if (decodes(m.input, bytes)) throw new Error(`generator bug: ${bytes.toString("hex")} decodes as ${m.input.typeName}`);
      grpcCases.push({ transport: "grpc", label: `undecodable ${m.name} tail ${JSON.stringify(tail)}`, path: `/${m.parent.typeName}/${m.name}`, bytes, code: [G.INVALID_ARGUMENT], reason: [R_MALFORMED] });
    }
    // Random junk ending in an undecodable tail. The junk may swallow the tail (an unfinished field), so
    // keep only junk the protobuf decoder really refuses; what it decodes to before failing is anyone's guess,
    // so any INVALID_ARGUMENT will do.
    let junk: Buffer;
    do junk = Buffer.concat([rng.bytes(rng.int(0, 64)), Buffer.from(rng.pick(UNDECODABLE_TAILS))]);
    while (decodes(m.input, junk));
    grpcCases.push({ transport: "grpc", label: `junk ${m.name} ${junk.toString("hex").slice(0, 40)}`, path: `/${m.parent.typeName}/${m.name}`, bytes: junk, code: [G.INVALID_ARGUMENT] });
  }
  // A name that is not UTF-8.
  grpcCases.push({ transport: "grpc", label: "GetOperation name not UTF-8", path: `/${ops.getOperation.parent.typeName}/${ops.getOperation.name}`, bytes: Buffer.from([0x0a, 0x02, 0xff, 0xfe]), code: [G.INVALID_ARGUMENT] });
  // The empty message: every Operations method then lacks its name.
  for (const m of [ops.getOperation, ops.listOperations, ops.deleteOperation, ops.cancelOperation, ops.waitOperation]) {
    grpcCases.push({ transport: "grpc", label: `empty ${m.name}`, path: `/${m.parent.typeName}/${m.name}`, bytes: Buffer.alloc(0), code: [G.INVALID_ARGUMENT], reason: [R_INVALID_NAME] });
  }

  // ---- unknown gRPC methods (grpc-js answers UNIMPLEMENTED itself) ----
  for (const path of ["/google.longrunning.Operations/Frobnicate", "/google.longrunning.Operations/getOperation", "/longrun.demo.v1.Demo/Wake", "/nope.Nope/Nope", "/google.longrunning.Operations/", `/${rng.string(rng.int(1, 20), ID_ALPHABET)}/${rng.string(rng.int(1, 20), ID_ALPHABET)}`]) {
    grpcCases.push({ transport: "grpc", label: `unknown method ${path}`, path, bytes: Buffer.alloc(0), code: [G.UNIMPLEMENTED], statusDetails: false });
  }

  // ---- huge gRPC messages ----
  grpcCases.push({ ...sleep("requestId 3 MiB", { requestId: "a".repeat(3 * MiB) }), label: "sleep requestId 3 MiB (under the 4 MiB limit)" });
  grpcCases.push({ ...grpcCase("sleep 5 MiB message", Demo.method.sleep, { requestId: "a".repeat(5 * MiB) }, [G.RESOURCE_EXHAUSTED]), statusDetails: false });

  // ---- Sleep over REST: bad fields, unknown fields, invalid JSON, wrong types, deep nesting ----
  for (const [field, value, reason] of BAD_SLEEP_FIELDS) {
    restCases.push(bad400(`sleep {${field}: ${value.slice(0, 40)}}`, `{"${field}":${value}}`, reason));
  }
  for (const key of UNKNOWN_KEYS) {
    restCases.push(bad400(`sleep unknown field ${JSON.stringify(key)}`, `{"duration":"0s",${JSON.stringify(key)}:${rng.pick(["1", '"x"', "{}", "[]", "null", "true"])}}`, R_MALFORMED));
  }
  for (const body of INVALID_JSON) restCases.push(bad400(`sleep invalid JSON ${JSON.stringify(body.toString().slice(0, 30))}`, body, R_MALFORMED));
  for (const body of TOP_LEVEL_NOT_OBJECT) restCases.push(bad400(`sleep body ${body}`, body, R_MALFORMED));
  restCases.push(
    bad400("sleep deep array", nest(20_000, "[", "]", "1"), R_MALFORMED),
    bad400("sleep deep object", nest(20_000, '{"a":', "}", "1"), R_MALFORMED),
    bad400("sleep deep Value in details", `{"failWith":{"code":3,"details":[{"@type":"type.googleapis.com/google.protobuf.Value","value":${nest(1000, "[", "]", "1")}}]}}`, R_MALFORMED),
    bad400("sleep deep Struct in details", `{"failWith":{"code":3,"details":[{"@type":"type.googleapis.com/google.protobuf.Struct","value":${nest(1000, '{"a":', "}", "1")}}]}}`, R_MALFORMED),
    bad400("sleep deep nested Any", `{"failWith":{"code":3,"details":[${nest(500, '{"@type":"type.googleapis.com/google.protobuf.Any","value":', "}", '{"@type":"type.googleapis.com/google.protobuf.Empty"}')}]}}`, R_MALFORMED),
    bad400("sleep ?duration=1s (body is *)", "{}", R_MALFORMED, `${SLEEP}?duration=1s`),
    bad400("sleep ?requestId=x", '{"duration":"0s"}', R_MALFORMED, `${SLEEP}?requestId=x`),
    bad400("sleep ?$alt=xml", "{}", R_MALFORMED, `${SLEEP}?$alt=xml`),
    bad400("sleep ?$foo=1", "{}", R_MALFORMED, `${SLEEP}?$foo=1`),
    rest("sleep form-encoded", "POST", SLEEP, "duration=1s", [415], [R_UNSUPPORTED], { "content-type": "application/x-www-form-urlencoded" }),
    rest("sleep text/plain junk", "POST", SLEEP, "hello", [415], [R_UNSUPPORTED], { "content-type": "text/plain" }),
    // gzip, deflate and br are read (test/transport/content-encoding.test.ts); other codings are refused unread,
    // and a body that is not its coding's data is malformed.
    rest("sleep compress-encoded body", "POST", SLEEP, gzipSync('{"duration":"0s"}'), [415], ["UNSUPPORTED_CONTENT_ENCODING"], { "content-encoding": "compress" }),
    rest("sleep gzip-labelled plain body", "POST", SLEEP, '{"duration":"0s"}', [400], [R_MALFORMED], { "content-encoding": "gzip" }),
  );
  // Random mutations of a valid SleepRequest JSON.
  for (let i = 0; i < 40; i++) {
    const valid = JSON.stringify({ duration: rng.pick(["0s", "0.001s"]), requestId: randomId(rng, rng.int(1, 40)) });
    switch (rng.int(0, 4)) {
      case 0: {
        const cut = rng.int(1, valid.length - 1);
        restCases.push(bad400(`sleep truncated at ${cut}`, valid.slice(0, cut), R_MALFORMED));
        break;
      }
      case 1: {
        // One field replaced by a bad value, the others valid.
        const [field, value, reason] = rng.pick(BAD_SLEEP_FIELDS);
        const fields = new Map<string, string>([["duration", '"0s"'], ["requestId", JSON.stringify(randomId(rng, 10))]]);
        if (field === "request_id") fields.delete("requestId");
        fields.set(field, value);
        const body = `{${[...fields].map(([k, v]) => `"${k}":${v}`).join(",")}}`;
        restCases.push(bad400(`sleep mutated ${field}=${value.slice(0, 30)}`, body, reason));
        break;
      }
      case 2: {
        let key = rng.string(rng.int(1, 10), "abcdefghijklmnopqrstuvwxyzXYZ_");
        if (["duration", "failWith", "fail_with", "requestId", "request_id"].includes(key)) key = `zz${key}`;
        restCases.push(bad400(`sleep random unknown key ${key}`, valid.slice(0, -1) + `,${JSON.stringify(key)}:1}`, R_MALFORMED));
        break;
      }
      case 3:
        restCases.push(bad400("sleep wrapped", rng.pick([`[${valid}]`, `{"request":${valid}}`, JSON.stringify(valid), `${valid}${valid}`]), R_MALFORMED));
        break;
      default: {
        const junk = Buffer.concat([Buffer.from(valid.slice(0, rng.int(1, valid.length - 1))), rng.bytes(rng.int(1, 16))]);
        restCases.push(bad400("sleep junk tail", junk, R_MALFORMED));
      }
    }
  }

  // ---- Wait / Cancel over REST: bad bodies ----
  const opPath = `/v1/operations/${randomId(rng)}`;
  for (const [body, reason] of [
    ['{"timeout":"-5s"}', R_INVALID_ARGUMENT],
    ['{"timeout":"-0.5s"}', R_INVALID_ARGUMENT],
    ['{"timeout":"-315576000000s"}', R_INVALID_ARGUMENT],
    ['{"timeout":5}', R_MALFORMED],
    ['{"timeout":"5"}', R_MALFORMED],
    ['{"timeout":"abc"}', R_MALFORMED],
    ['{"timeout":"315576000001s"}', R_MALFORMED],
    ['{"timeout":{"seconds":5}}', R_MALFORMED],
    ['{"timeout":[]}', R_MALFORMED],
    ['{"name":"operations/other"}', R_MALFORMED],
    ['{"name":5}', R_MALFORMED],
    ['{"bogus":1}', R_MALFORMED],
    ["[]", R_MALFORMED],
    ["null", R_MALFORMED],
    ["{", R_MALFORMED],
  ] as const) {
    restCases.push(bad400(`wait ${body}`, body, reason, `${opPath}:wait`));
  }
  restCases.push(bad400("wait ?timeout=5s (body is *)", "{}", R_MALFORMED, `${opPath}:wait?timeout=5s`));
  for (const body of ['{"name":"operations/zzz"}', '{"foo":1}', "{", "[]", '"x"', "1", '{"name":[]}']) {
    restCases.push(bad400(`cancel ${body}`, body, R_MALFORMED, `${opPath}:cancel`));
  }
  restCases.push(bad400("cancel ?name=x", "{}", R_MALFORMED, `${opPath}:cancel?name=x`));

  // ---- routing: wrong verbs, wrong methods, unknown paths, bad percent-encoding ----
  const notFound = (label: string, method: string, path: string, body?: string): RestCase => rest(label, method, path, body, [404], [R_UNKNOWN_PATH]);
  restCases.push(
    notFound("PUT op", "PUT", "/v1/operations/abc", "{}"),
    notFound("PATCH op", "PATCH", "/v1/operations/abc", "{}"),
    notFound("POST op without verb", "POST", "/v1/operations/abc", "{}"),
    // A verb no route of this HTTP method has stays part of the last segment: here the name
    // "operations/abc:cancel", which is malformed (400), rather than an unknown path (404). Either is a fair answer.
    rest("GET :cancel", "GET", "/v1/operations/abc:cancel", undefined, [400, 404], [R_INVALID_NAME, R_UNKNOWN_PATH]),
    rest("GET :wait", "GET", "/v1/operations/abc:wait", undefined, [400, 404], [R_INVALID_NAME, R_UNKNOWN_PATH]),
    rest("DELETE :cancel", "DELETE", "/v1/operations/abc:cancel", undefined, [400, 404], [R_INVALID_NAME, R_UNKNOWN_PATH]),
    notFound("POST :frobnicate", "POST", "/v1/operations/abc:frobnicate", "{}"),
    notFound("POST :CANCEL", "POST", "/v1/operations/abc:CANCEL", "{}"),
    notFound("POST empty verb", "POST", "/v1/operations/abc:", "{}"),
    notFound("GET sleep", "GET", "/v1/demo:sleep"),
    notFound("DELETE sleep", "DELETE", "/v1/demo:sleep"),
    notFound("POST /v1/demo", "POST", "/v1/demo", "{}"),
    notFound("POST sleep/x", "POST", "/v1/demo:sleep/x", "{}"),
    notFound("POST list", "POST", "/v1/operations", "{}"),
    notFound("GET /", "GET", "/"),
    notFound("GET /v1", "GET", "/v1"),
    notFound("GET /v1/", "GET", "/v1/"),
    notFound("GET /v2/operations", "GET", "/v2/operations"),
    notFound("GET /V1/operations", "GET", "/V1/operations"),
    notFound("GET //v1/operations", "GET", "//v1/operations"),
    notFound("GET /v1//operations", "GET", "/v1//operations"),
    notFound("GET /v1/operations/", "GET", "/v1/operations/"),
    notFound("GET /v1/operations%2Fabc", "GET", "/v1/operations%2Fabc"),
    notFound("GET /favicon.ico", "GET", "/favicon.ico"),
    notFound("OPTIONS list", "OPTIONS", "/v1/operations"),
    notFound("TRACE op", "TRACE", "/v1/operations/abc"),
    notFound("PROPFIND op", "PROPFIND", "/v1/operations/abc"),
    notFound("GET :cancel on list", "GET", "/v1/operations:cancel"),
    notFound("unknown path with a 2 MiB body", "POST", "/v1/nope", " ".repeat(2 * MiB)),
    rest("HEAD op", "HEAD", "/v1/operations/abc", undefined, [404]),
    rest("HEAD list (HEAD is bound to nothing)", "HEAD", "/v1/operations?pageSize=-1", undefined, [404]),
    rest("bad percent-encoding", "GET", "/v1/operations/%ZZ", undefined, [400], [R_MALFORMED]),
    rest("truncated percent-encoding", "GET", "/v1/operations/abc%", undefined, [400], [R_MALFORMED]),
    rest("percent-encoded lone surrogate", "GET", "/v1/operations/%ED%A0%80", undefined, [400], [R_MALFORMED]),
    rest("percent-encoded invalid UTF-8", "DELETE", "/v1/operations/%FF%FE", undefined, [400], [R_MALFORMED]),
    rest("encoded slash in a single-segment name", "GET", "/v1/operations/abc%2Fdef", undefined, [400], [R_INVALID_NAME]),
    rest("whole name encoded, unknown", "GET", "/v1/operations/operations%2Fabc", undefined, [404], [R_NOT_FOUND]),
    rest("encoded verb separator", "POST", "/v1/operations/abc%3Acancel", "{}", [404], [R_UNKNOWN_PATH]),
  );
  for (let i = 0; i < 10; i++) {
    const segs = Array.from({ length: rng.int(0, 4) }, () => encodeURIComponent(rng.string(rng.int(1, 12), UNICODE_POOL)));
    const path = `/${rng.pick(["v0", "v2", "api", "x", "operations"])}/${segs.join("/")}`;
    restCases.push(notFound(`random path ${path.slice(0, 50)}`, rng.pick(["GET", "POST", "DELETE"]), path, "{}"));
  }
  for (let i = 0; i < 5; i++) {
    const verb = rng.string(rng.int(1, 10), "abcdefghijklmnopqrstuvwxyz");
    if (verb === "cancel" || verb === "wait") continue;
    restCases.push(notFound(`POST :${verb}`, "POST", `/v1/operations/${randomId(rng)}:${verb}`, "{}"));
  }
  for (let i = 0; i < 5; i++) {
    const method = rng.pick(["PUT", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL"]);
    restCases.push(notFound(`${method} random op`, method, `/v1/operations/${randomId(rng)}`, "{}"));
  }

  // ---- huge bodies ----
  restCases.push(
    bad400("sleep body 1 MiB + 1", " ".repeat(MiB - 1) + "{}", R_TOO_LARGE),
    bad400("sleep body 3 MiB junk", rng.bytes(3 * MiB), R_TOO_LARGE),
    bad400("cancel body 2 MiB", `{"name":"${"a".repeat(2 * MiB)}"}`, R_TOO_LARGE, `${opPath}:cancel`),
    bad400("wait body 1.5 MiB", `{"timeout":"1s"${" ".repeat(1.5 * MiB)}}`, R_TOO_LARGE, `${opPath}:wait`),
    bad400("list with a 1.1 MiB body", "x".repeat(1.1 * MiB), R_TOO_LARGE, "/v1/operations", "GET"),
    bad400("sleep 900 KiB of whitespace then {", " ".repeat(900 * KiB) + "{", R_MALFORMED),
    bad400("sleep requestId 900 KiB", `{"requestId":"${"a".repeat(900 * KiB)}"}`, R_INVALID_ARGUMENT),
    bad400("sleep 900 KiB unknown field", `{"x":"${"a".repeat(900 * KiB)}"}`, R_MALFORMED),
  );

  return { rest: restCases, grpc: grpcCases };
}

// ---------------------------------------------------------------------------------------------------------
// Checks

const REASON_FORMAT = /^[A-Z][A-Z0-9_]+[A-Z0-9]$/;
const METADATA_KEY = /^[a-z][a-zA-Z0-9-_]+$/;
/** A leaked stack trace or file path in an error message. */
const LEAK = /\n\s+at |node_modules|file:\/\/|\.[jt]s:\d+:\d+/;

function checkErrorInfo(info: { reason?: unknown; domain?: unknown; metadata?: unknown } | undefined, reasons: readonly string[] | undefined, problems: string[]): void {
  if (!info) {
    problems.push("no google.rpc.ErrorInfo in the details");
    return;
  }
  if (info.domain !== DOMAIN) problems.push(`ErrorInfo.domain ${JSON.stringify(info.domain)}, expected ${DOMAIN}`);
  if (typeof info.reason !== "string" || !REASON_FORMAT.test(info.reason) || info.reason.length > 63) {
    problems.push(`ErrorInfo.reason ${JSON.stringify(info.reason)} is not UPPER_SNAKE_CASE`);
  } else if (reasons && !reasons.includes(info.reason)) {
    problems.push(`ErrorInfo.reason ${info.reason}, expected ${reasons.join(" | ")}`);
  }
  if (info.metadata !== undefined) {
    if (typeof info.metadata !== "object" || info.metadata === null) problems.push("ErrorInfo.metadata is not a map");
    else {
      for (const [k, v] of Object.entries(info.metadata)) {
        if (!METADATA_KEY.test(k) || k.length > 64) problems.push(`ErrorInfo.metadata key ${JSON.stringify(k)} is malformed`);
        if (typeof v !== "string") problems.push(`ErrorInfo.metadata[${k}] is not a string`);
      }
    }
  }
}

function checkRest(c: RestCase, res: HttpResult): string[] {
  const problems: string[] = [];
  const ok4xx = (res.status >= 400 && res.status <= 499) || res.status === 501;
  if (!ok4xx) problems.push(`HTTP ${res.status} is not a client-error answer`);
  if (!c.status.includes(res.status)) problems.push(`HTTP ${res.status}, expected ${c.status.join(" | ")}`);
  if (c.method === "HEAD") return problems;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    problems.push(`body is not JSON: ${JSON.stringify(res.body.slice(0, 200))}`);
    return problems;
  }
  if (!String(res.headers["content-type"] ?? "").startsWith("application/json")) problems.push(`content-type ${res.headers["content-type"]}`);
  const envelope = body as { error?: Record<string, unknown> };
  if (typeof envelope !== "object" || envelope === null || Object.keys(envelope).join() !== "error" || typeof envelope.error !== "object" || envelope.error === null) {
    problems.push(`body is not {"error": {...}}: ${res.body.slice(0, 200)}`);
    return problems;
  }
  const e = envelope.error;
  const extra = Object.keys(e).filter((k) => !["code", "message", "status", "details"].includes(k));
  if (extra.length > 0) problems.push(`error has non-schema fields ${extra.join(", ")}`);
  if (e["code"] !== res.status) problems.push(`error.code ${JSON.stringify(e["code"])} differs from HTTP ${res.status}`);
  const name = e["status"];
  const known = typeof name === "string" ? CODES[name] : undefined;
  if (!known) problems.push(`error.status ${JSON.stringify(name)} is not a google.rpc.Code name`);
  else if (known.http !== res.status && !(name === "INVALID_ARGUMENT" && (res.status === 413 || res.status === 415 || res.status === 421))) problems.push(`error.status ${String(name)} maps to HTTP ${known.http}, answered ${res.status}`);
  if (typeof e["message"] !== "string" || e["message"] === "") problems.push("error.message missing");
  else if (LEAK.test(e["message"])) problems.push(`error.message leaks internals: ${e["message"].slice(0, 200)}`);
  const details = e["details"];
  if (!Array.isArray(details)) {
    problems.push("error.details is not a list");
    return problems;
  }
  for (const d of details) {
    if (typeof d !== "object" || d === null || typeof (d as Record<string, unknown>)["@type"] !== "string") problems.push(`a detail without @type: ${JSON.stringify(d).slice(0, 100)}`);
  }
  const infos = details.filter((d) => (d as Record<string, unknown>)?.["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  if (infos.length > 1) problems.push("more than one ErrorInfo");
  checkErrorInfo(infos[0] as never, c.reason, problems);
  return problems;
}

function checkGrpc(c: GrpcCase, err: CallError): string[] {
  const problems: string[] = [];
  const forbidden = FORBIDDEN_GRPC.get(err.code);
  if (forbidden) problems.push(`gRPC ${forbidden} (${err.code}): ${err.details}`);
  if (!c.code.includes(err.code)) problems.push(`gRPC code ${err.code} (${err.details?.slice(0, 150)}), expected ${c.code.join(" | ")}`);
  if (LEAK.test(err.details ?? "")) problems.push(`message leaks internals: ${err.details.slice(0, 200)}`);
  if (c.statusDetails === false) return problems;
  if (!err.status) {
    problems.push("no grpc-status-details-bin (google.rpc.Status)");
    return problems;
  }
  if (err.status.code !== err.code) problems.push(`Status.code ${err.status.code} differs from the gRPC code ${err.code}`);
  if (err.status.message !== err.details) problems.push("Status.message differs from the gRPC message");
  const infos = err.status.details.filter((d) => d.typeUrl === "type.googleapis.com/google.rpc.ErrorInfo");
  if (infos.length > 1) problems.push("more than one ErrorInfo");
  checkErrorInfo(err.errorInfo, c.reason, problems);
  return problems;
}

interface Failure {
  c: Case;
  problems: string[];
}

function describeCase(c: Case): string {
  if (c.transport === "rest") {
    const body = c.body === undefined ? "" : ` body(${c.body.length}B)=${JSON.stringify(c.body.toString("utf8").slice(0, 80))}`;
    return `[${c.label.slice(0, 100)}] ${c.method} ${c.path.slice(0, 120)}${body}`;
  }
  return `[${c.label.slice(0, 100)}] ${c.path} bytes(${c.bytes.length})=${c.bytes.subarray(0, 40).toString("hex")}`;
}

function report(kind: string, failures: Failure[], total: number): string {
  const lines = failures.slice(0, 30).map((f) => `  ${describeCase(f.c)}\n      → ${f.problems.join("; ")}`);
  const more = failures.length > 30 ? `\n  … and ${failures.length - 30} more` : "";
  return `${failures.length} of ${total} ${kind} cases failed (seed ${SEED}; replay with LONGRUN_FUZZ_SEED=${SEED}):\n${lines.join("\n")}${more}`;
}

/** How often each answer was seen ("400 MALFORMED_REQUEST": 57), printed after each barrage. */
type Tally = Map<string, number>;
const count = (tally: Tally, key: string): void => void tally.set(key, (tally.get(key) ?? 0) + 1);
const formatTally = (tally: Tally): string =>
  [...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(", ");

async function runRest(url: string, c: RestCase, tally?: Tally): Promise<string[]> {
  let res: HttpResult;
  try {
    // A body is sent as JSON (anything else is 415) unless the case names its own type.
    const headers = c.body === undefined || c.headers?.["content-type"] !== undefined ? c.headers : { "content-type": "application/json", ...c.headers };
    res = await httpRequest(url, { method: c.method, path: c.path, headers, body: c.body }, HANG_MS);
  } catch (e) {
    return [`no answer: ${e instanceof Error ? e.message : String(e)}`];
  }
  if (tally) {
    const reason = /"reason": ?"([A-Z_]+)"/.exec(res.body)?.[1] ?? "-";
    count(tally, `${res.status} ${reason}`);
  }
  if (res.status >= 200 && res.status < 300) return [`accepted (HTTP ${res.status}): ${res.body.slice(0, 200)}`];
  return checkRest(c, res);
}

async function runGrpc(t: TestServer, c: GrpcCase, tally?: Tally): Promise<string[]> {
  let err: CallError;
  try {
    err = await callError(t.grpc.raw(c.path, c.bytes, { deadlineMs: HANG_MS }));
  } catch (e) {
    return [`accepted: ${e instanceof Error ? e.message : String(e)}`];
  }
  if (tally) count(tally, `${CODE_NAMES[err.code] ?? err.code} ${err.errorInfo?.reason ?? "-"}`);
  return checkGrpc(c, err);
}

const CODE_NAMES = Object.fromEntries(Object.entries(CODES).map(([name, { code }]) => [code, name]));

/** What the server logs while `fn` runs: its transports log only failures that are bugs. */
async function capturingErrors<T>(t: TestServer, fn: () => Promise<T>): Promise<{ result: T; logged: string[] }> {
  const before = t.logged.length;
  const result = await fn();
  return { result, logged: t.logged.slice(before) };
}

// ---------------------------------------------------------------------------------------------------------

after(() => closeHttpAgent());

describe("bad input is answered, not crashed on", () => {
  let t: TestServer;
  let cases: { rest: RestCase[]; grpc: GrpcCase[] };
  let port: number;

  before(async () => {
    t = await startTestServer();
    port = Number(new URL(t.url).port);
    // Three done operations, so ListOperations issues real page tokens to tamper with.
    for (let i = 0; i < 3; i++) {
      const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
      await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    }
    const plain = (await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 1 })).nextPageToken;
    const doneTrue = (await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 1, filter: "done = true" })).nextPageToken;
    assert.ok(plain && doneTrue, "ListOperations issues page tokens");
    cases = buildCases(new Rng(SEED), { plain, doneTrue });
    console.log(`bad-input: ${cases.rest.length} REST + ${cases.grpc.length} gRPC generated cases`);
  });

  after(() => t.close());

  it("REST: every generated bad request gets a 4xx google.rpc.Status envelope", async (ctx) => {
    assert.ok(cases.rest.length >= 150, `only ${cases.rest.length} REST cases`);
    const tally: Tally = new Map();
    const { result, logged } = await capturingErrors(t, () => mapLimit(cases.rest, CONCURRENCY, (c) => runRest(t.url, c, tally)));
    ctx.diagnostic(`REST answers: ${formatTally(tally)}`);
    const failures = result.map((problems, i) => ({ c: cases.rest[i]!, problems })).filter((f) => f.problems.length > 0);
    assert.equal(failures.length, 0, report("REST", failures, cases.rest.length));
    assert.deepEqual(logged, [], "the server logged unexpected failures");
  });

  it("gRPC: every generated bad request gets a non-INTERNAL code with a google.rpc.Status", async (ctx) => {
    assert.ok(cases.grpc.length >= 150, `only ${cases.grpc.length} gRPC cases`);
    const tally: Tally = new Map();
    const { result, logged } = await capturingErrors(t, () => mapLimit(cases.grpc, CONCURRENCY, (c) => runGrpc(t, c, tally)));
    ctx.diagnostic(`gRPC answers: ${formatTally(tally)}`);
    const failures = result.map((problems, i) => ({ c: cases.grpc[i]!, problems })).filter((f) => f.problems.length > 0);
    assert.equal(failures.length, 0, report("gRPC", failures, cases.grpc.length));
    assert.deepEqual(logged, [], "the server logged unexpected failures");
  });

  it("both transports at once: the mixed barrage is still answered correctly", async () => {
    // Interleaved and with more in flight, so a failure that only shows under load shows up.
    const rng = new Rng(SEED ^ 0x5bd1e995);
    const mixed: Case[] = [];
    for (let i = 0; i < 120; i++) mixed.push(rng.bool() ? rng.pick(cases.rest) : rng.pick(cases.grpc));
    const results = await mapLimit(mixed, 24, (c) => (c.transport === "rest" ? runRest(t.url, c) : runGrpc(t, c)));
    const failures = results.map((problems, i) => ({ c: mixed[i]!, problems })).filter((f) => f.problems.length > 0);
    assert.equal(failures.length, 0, report("mixed", failures, mixed.length));
  });

  // ---- raw-socket abuse of the HTTP server ----

  const HEAD = (method: string, path: string, headers: string[] = []): string =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${(headers.some((h) => /^content-type:/i.test(h)) ? headers : [...headers, "Content-Type: application/json"]).map((h) => `${h}\r\n`).join("")}\r\n`;

  async function assertServing(): Promise<void> {
    const res = await httpRequest(t.url, { method: "GET", path: "/v1/operations?pageSize=1" }, HANG_MS);
    assert.equal(res.status, 200, `the REST server still serves: ${res.body.slice(0, 200)}`);
    await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 1 }, { deadlineMs: HANG_MS });
  }

  /** Raw abuses may be answered by node's parser (bare 400/431) or, when it makes sense of them, by longrun. */
  function assertNoServerError(label: string, statuses: readonly number[]): void {
    for (const s of statuses) assert.ok(s < 500, `${label}: answered HTTP ${s}`);
  }

  it("raw: an oversized chunked body sent slowly is read to its end, then refused with 413 REQUEST_TOO_LARGE", async () => {
    const chunk = " ".repeat(64 * KiB);
    const steps: RawStep[] = [HEAD("POST", SLEEP, ["Transfer-Encoding: chunked", "Content-Type: application/json"])];
    for (let sent = 0; sent <= 1.25 * MiB; sent += chunk.length) {
      steps.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`, { delayMs: 5 });
    }
    steps.push("0\r\n\r\n");
    // While it trickles in, the server answers others.
    const [raw] = await Promise.all([rawExchange(port, steps, { maxMs: 8_000 }), assertServing()]);
    assert.deepEqual(raw.statuses, [413], raw.data.toString("latin1").slice(0, 300));
    assert.match(raw.data.toString(), /REQUEST_TOO_LARGE/);
    // Read to its end: the connection can carry the next request.
    assert.doesNotMatch(raw.data.toString("latin1"), /\r\nconnection: close\r\n/i);
    await assertServing();
  });

  it("raw: a Content-Length over the drain limit is refused at once, before the body arrives", async () => {
    const raw = await rawExchange(port, [HEAD("POST", SLEEP, [`Content-Length: ${1024 * MiB}`]), "{}"], { maxMs: 3_000 });
    assert.deepEqual(raw.statuses, [413], raw.data.toString("latin1").slice(0, 300));
    assert.match(raw.data.toString(), /REQUEST_TOO_LARGE/);
    await assertServing();
  });

  it("raw: a body shorter than its Content-Length (half-close, disconnect) leaves the server up", async () => {
    const halfClosed = await rawExchange(port, [HEAD("POST", SLEEP, ["Content-Length: 1000"]), '{"duration":', { end: true }], { maxMs: 3_000 });
    assertNoServerError("half-closed", halfClosed.statuses);
    const dropped = await rawExchange(port, [HEAD("POST", SLEEP, ["Content-Length: 1000"]), "x".repeat(100), { delayMs: 50 }, { destroy: true }]);
    assert.deepEqual(dropped.statuses, []);
    const droppedMidChunk = await rawExchange(port, [HEAD("POST", SLEEP, ["Transfer-Encoding: chunked"]), "100\r\n{\"dur", { delayMs: 50 }, { destroy: true }]);
    assert.deepEqual(droppedMidChunk.statuses, []);
    // Stalled mid-body: we give up first; the server must not be stuck on it.
    const stalled = rawExchange(port, [HEAD("POST", SLEEP, ["Content-Length: 50"]), '{"dur', { delayMs: 400 }, { destroy: true }]);
    await assertServing();
    await stalled;
    await assertServing();
  });

  it("raw: a body longer than its Content-Length: the rest is taken for a (bad) next request", async () => {
    const raw = await rawExchange(port, [HEAD("POST", SLEEP, ["Content-Length: 5"]) + '{"duration":"1s"} and then some junk\r\n\r\n'], { maxMs: 3_000 });
    assert.ok(raw.statuses.length >= 1, raw.data.toString("latin1").slice(0, 300));
    assertNoServerError("overlong body", raw.statuses);
    assert.equal(raw.statuses[0], 400);
    await assertServing();
  });

  it("raw: malformed request lines and headers get a 4xx (or nothing), and the server stays up", async () => {
    const rng = new Rng(SEED ^ 0x1234567);
    const abuses: [label: string, bytes: string | Buffer][] = [
      ["garbage line", "GARBAGE\r\n\r\n"],
      ["method only", "GET\r\n\r\n"],
      ["no version (HTTP/0.9 style: node serves it)", "GET /v1/operations\r\n\r\n"],
      ["HTTP/9.9", "GET /v1/operations HTTP/9.9\r\nHost: x\r\n\r\n"],
      ["unknown method", "FROB /v1/operations HTTP/1.1\r\nHost: x\r\n\r\n"],
      ["header without colon", "GET /v1/operations HTTP/1.1\r\nNoColonHere\r\n\r\n"],
      ["NUL in header", "GET /v1/operations HTTP/1.1\r\nHost: x\u0000y\r\n\r\n"],
      ["NUL in request line", "GET /v1/oper\u0000ations HTTP/1.1\r\nHost: x\r\n\r\n"],
      ["space in path", "GET /v1/operations/a b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
      ["Content-Length: -1", HEAD("POST", SLEEP, ["Content-Length: -1"])],
      ["Content-Length: abc", HEAD("POST", SLEEP, ["Content-Length: abc"])],
      ["two different Content-Lengths", HEAD("POST", SLEEP, ["Content-Length: 2", "Content-Length: 3"]) + "{}"],
      ["Content-Length and chunked", HEAD("POST", SLEEP, ["Content-Length: 2", "Transfer-Encoding: chunked"]) + "0\r\n\r\n"],
      ["bad chunk size", HEAD("POST", SLEEP, ["Transfer-Encoding: chunked"]) + "zz\r\n{}\r\n0\r\n\r\n"],
      ["unknown transfer-encoding", HEAD("POST", SLEEP, ["Transfer-Encoding: gzip"]) + "{}"],
      ["20 KiB path", `GET /v1/operations/${"a".repeat(20 * KiB)} HTTP/1.1\r\nHost: x\r\n\r\n`],
      ["20 KiB header", HEAD("GET", "/v1/operations", [`X-Big: ${"a".repeat(20 * KiB)}`])],
      ["path without a slash", "GET v1/operations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
      ["absolute-form", "GET http://127.0.0.1/v1/operations/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
      ["asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
      ["HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"],
      ["TLS ClientHello", Buffer.from("16030100a5010000a10303" + "00".repeat(32), "hex")],
      ["random bytes", rng.bytes(256)],
      ["random bytes after a valid start", Buffer.concat([Buffer.from("GET /v1/operations HTTP/1.1\r\n"), rng.bytes(128), Buffer.from("\r\n\r\n")])],
      ["incomplete headers", "GET /v1/operations HTTP/1.1\r\nHost: x\r\n"],
      ["bare LF line endings", "GET /v1/operations/abc HTTP/1.1\nHost: x\nConnection: close\n\n"],
    ];
    const results = await mapLimit(abuses, 6, async ([label, bytes]) => ({ label, raw: await rawExchange(port, [bytes], { idleMs: 300, maxMs: 3_000 }) }));
    for (const { label, raw } of results) assertNoServerError(label, raw.statuses);
    await assertServing();
  });

  it("raw: pipelined requests are answered in order, a bad one not disturbing the next", async () => {
    const raw = await rawExchange(port, [
      HEAD("GET", "/v1/operations/not%20a%20name") + HEAD("POST", SLEEP, ["Content-Length: 1"]) + "{" + HEAD("GET", "/v1/operations?pageSize=1", ["Connection: close"]),
    ], { maxMs: 5_000 });
    assert.deepEqual(raw.statuses, [400, 400, 200], raw.data.toString("latin1").slice(0, 500));
  });

  it("raw: a client that disconnects during a Wait leaves the server and the operation fine", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    const body = '{"timeout":"30s"}';
    const raw = await rawExchange(port, [HEAD("POST", `/v1/${op.name}:wait`, [`Content-Length: ${body.length}`]) + body, { delayMs: 150 }, { destroy: true }]);
    assert.deepEqual(raw.statuses, []);
    await assertServing();
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    const done = await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    assert.equal(done.done, true);
    assert.equal(done.result.case, "error");
  });

  // ---- and afterwards ----

  it("afterwards both transports still serve Sleep → Wait → done", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(20) }, { deadlineMs: HANG_MS });
    const done = await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) }, { deadlineMs: HANG_MS });
    assert.equal(done.done, true);
    assert.equal(done.result.case, "response");

    const started = await httpRequest(t.url, { method: "POST", path: SLEEP, headers: { "content-type": "application/json" }, body: '{"duration":"0.02s"}' });
    assert.equal(started.status, 200, started.body);
    const name = (JSON.parse(started.body) as { name: string }).name;
    const waited = await httpRequest(t.url, { method: "POST", path: `/v1/${name}:wait`, headers: { "content-type": "application/json" }, body: '{"timeout":"10s"}' });
    assert.equal(waited.status, 200, waited.body);
    const finished = JSON.parse(waited.body) as { done?: boolean; response?: { "@type"?: string } };
    assert.equal(finished.done, true);
    assert.equal(finished.response?.["@type"], "type.googleapis.com/longrun.demo.v1.SleepResponse");
    const got = await httpRequest(t.url, { method: "GET", path: `/v1/${name}` });
    assert.equal(got.status, 200, got.body);
    await assertServing();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Regressions: bugs this test found (both fixed since): kept as plain tests.

describe("bad input: regressions", () => {
  let t: TestServer;
  // A server of their own: the first bug, when present, breaks ListOperations over REST for everyone.
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  // Was: gRPC Sleep {fail_with: {code: 3, details: [Any{type_url: "type.googleapis.com/nope.Nope"}]}} was accepted,
  // and once the operation was done REST GET /v1/operations/{id} and GET /v1/operations answered 500 INTERNAL
  // ("cannot encode the response ... not in the type registry" / "premature EOF").
  for (const [label, detail] of [
    ["an unregistered type", { typeUrl: "type.googleapis.com/nope.Nope", value: new Uint8Array([8, 1]) }],
    ["a type URL without a slash", { typeUrl: "nonsense", value: new Uint8Array([1]) }],
    ["a registered type with undecodable bytes", { typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: new Uint8Array([0xff]) }],
  ] as const) {
    it(`gRPC Sleep with fail_with.details holding ${label}: rejected, or the operation stays readable over REST`, async () => {
      const { logged } = await capturingErrors(t, async () => {
        let op;
        try {
          op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0), failWith: { code: 3, message: "x", details: [detail] } });
        } catch (e) {
          const err = e as CallError;
          assert.equal(err.code, G.INVALID_ARGUMENT, `rejected, but with ${err.code}: ${err.details}`);
          return;
        }
        await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
        const got = await httpRequest(t.url, { method: "GET", path: `/v1/${op.name}` });
        const listed = await httpRequest(t.url, { method: "GET", path: "/v1/operations" });
        // Clean up first, so the next case starts from a readable collection.
        await t.grpc.call(ops.deleteOperation, { name: op.name });
        assert.equal(got.status, 200, `REST GET of the operation: ${got.body.slice(0, 300)}`);
        assert.equal(listed.status, 200, `REST ListOperations: ${listed.body.slice(0, 300)}`);
        const error = (JSON.parse(got.body) as { error?: { code: number; message: string; details?: unknown[] } }).error;
        assert.deepEqual(error, { code: 3, message: "x" }, "code and message kept, the unservable detail dropped");
      });
      assert.ok(logged.some((line) => /detail\(s\) of types not in the registry/.test(line)), `the runtime says what it dropped: ${logged}`);
    });
  }
});
