// Compressed REST bodies (issue 16, item 5): gzip, deflate and br are decompressed, the size cap applies to
// what they decompress to (no zip bombs), anything else is refused with 415 — never parsed raw.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { create, getOption, type Message } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import type { Endpoint } from "../../src/service/endpoint.js";
import { http as httpOption } from "../../src/gen/google/api/annotations_pb.js";
import { OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import {
  Demo,
  file_longrun_demo_v1_demo,
  SleepResponseSchema,
  type SleepRequest,
} from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startRestServer, type RestServer } from "../../src/transport/rest/index.js";

const LIMIT = 64 * 1024;
const registry = buildRegistry([file_longrun_demo_v1_demo]);

/** Answers with the duration it was asked for, so a test sees what the transport decoded. */
const echo: Endpoint = {
  method: Demo.method.sleep,
  httpRules: [getOption(Demo.method.sleep, httpOption)],
  grpc: true,
  async invoke(request: Message): Promise<Message> {
    const slept = (request as SleepRequest).duration;
    return create(OperationSchema, {
      name: "operations/echo",
      done: true,
      result: { case: "response", value: anyPack(SleepResponseSchema, create(SleepResponseSchema, { ...(slept ? { slept } : {}) })) },
    });
  },
};

let srv: RestServer;
let url: string;
before(async () => {
  srv = await startRestServer({ endpoints: [echo], registry, errorDomain: "encoding.test", host: "127.0.0.1", port: 0, maxBodyBytes: LIMIT, log: (m, e) => assert.fail(`logged: ${m} ${String(e)}`) });
  url = `http://127.0.0.1:${srv.port}/v1/demo:sleep`;
});
after(async () => {
  await srv.close();
});

async function post(body: Uint8Array | string, contentEncoding?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (contentEncoding !== undefined) headers["content-encoding"] = contentEncoding;
  const res = await fetch(url, { method: "POST", headers, body });
  const json = (await res.json()) as {
    response?: { slept?: string };
    error?: { code: number; status: string; details: { "@type": string; reason?: string; metadata?: Record<string, string> }[] };
  };
  return { status: res.status, json };
}

function reasonOf(json: Awaited<ReturnType<typeof post>>["json"]): string | undefined {
  return json.error?.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo")?.reason;
}

const REQUEST = JSON.stringify({ duration: "7s" });

describe("Content-Encoding of REST bodies", () => {
  for (const [coding, compress] of [
    ["gzip", gzipSync],
    ["x-gzip", gzipSync],
    ["GZIP", gzipSync],
    ["deflate", deflateSync],
    ["br", brotliCompressSync],
    ["identity", (b: Buffer) => b],
  ] as const) {
    it(`${coding}: the body is decompressed and read as JSON`, async () => {
      const { status, json } = await post(compress(Buffer.from(REQUEST)), coding);
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.response?.slept, "7s");
    });
  }

  for (const coding of ["compress", "zstd", "gzip, br", "gzip;q=1", ""]) {
    it(`${JSON.stringify(coding)} is refused with 415 UNSUPPORTED_CONTENT_ENCODING, the body not read`, async () => {
      const { status, json } = await post(gzipSync(Buffer.from(REQUEST)), coding);
      assert.equal(status, 415);
      assert.equal(json.error?.status, "INVALID_ARGUMENT");
      assert.equal(reasonOf(json), Reason.UNSUPPORTED_CONTENT_ENCODING);
      const info = json.error?.details.find((d) => d.reason !== undefined);
      assert.equal(info?.metadata?.["contentEncoding"], coding);
    });
  }

  it("a body that is not what its Content-Encoding says (raw JSON labelled gzip, raw deflate labelled deflate, truncated gzip) is 400 MALFORMED_REQUEST", async () => {
    const gz = gzipSync(Buffer.from(REQUEST));
    for (const [body, coding] of [
      [Buffer.from(REQUEST), "gzip"],
      [deflateRawSync(Buffer.from(REQUEST)), "deflate"],
      [gz.subarray(0, gz.length - 6), "gzip"],
      [Buffer.from(REQUEST), "br"],
    ] as const) {
      const { status, json } = await post(body, coding);
      assert.equal(status, 400, `${coding}: ${JSON.stringify(json)}`);
      assert.equal(reasonOf(json), Reason.MALFORMED_REQUEST);
    }
  });

  it("the size cap applies after decompression: a 64 KiB body that inflates past it is 413; one just under passes", async () => {
    const pad = (n: number) => JSON.stringify({ duration: "1s", failWith: { message: "x".repeat(n) } });
    const over = Buffer.from(pad(LIMIT));
    const { status, json } = await post(gzipSync(over), "gzip");
    assert.equal(status, 413);
    assert.equal(reasonOf(json), Reason.REQUEST_TOO_LARGE);
    const under = Buffer.from(JSON.stringify({ duration: "1s" }) + " ".repeat(LIMIT - 40));
    assert.ok(under.length <= LIMIT);
    const ok = await post(gzipSync(under), "gzip");
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
  });

  it("a zip bomb (10 MiB of zeros in a body of a few KB, gzip, br or deflate) is 413: inflating stops at the cap", async () => {
    const zeros = Buffer.alloc(10 * 1024 * 1024);
    const bomb = gzipSync(zeros, { level: 9 });
    assert.ok(bomb.length < LIMIT, `the compressed body is ${bomb.length} bytes, under the cap`);
    for (const [body, coding] of [
      [bomb, "gzip"],
      [brotliCompressSync(zeros), "br"],
      [deflateSync(zeros, { level: 9 }), "deflate"],
    ] as const) {
      // Inflated in full, the zeros would be read as (invalid) JSON: 400, not 413.
      const { status, json } = await post(body, coding);
      assert.equal(status, 413, `${coding}: ${JSON.stringify(json)}`);
      assert.equal(reasonOf(json), Reason.REQUEST_TOO_LARGE);
    }
  });
});
