// Oversized uploads and unparsable requests (issue 16, items 3 and 4): every client gets its answer, a
// google.rpc.Status envelope, not a reset (EPIPE) or node's bare status line.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { create, getOption, type Message } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Reason } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import type { Endpoint } from "../../src/service/endpoint.js";
import { http as httpOption } from "../../src/gen/google/api/annotations_pb.js";
import { OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, file_longrun_demo_v1_demo, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startRestServer, type RestServer } from "../../src/transport/rest/index.js";

const MB = 1000 * 1000;
const MiB = 1024 * 1024;
const DOMAIN = "uploads.test";
const registry = buildRegistry([file_longrun_demo_v1_demo]);

const sleep: Endpoint = {
  method: Demo.method.sleep,
  httpRules: [getOption(Demo.method.sleep, httpOption)],
  grpc: true,
  async invoke(): Promise<Message> {
    return create(OperationSchema, {
      name: "operations/demo",
      done: true,
      result: { case: "response", value: anyPack(SleepResponseSchema, create(SleepResponseSchema, {})) },
    });
  },
};

let srv: RestServer;
before(async () => {
  srv = await startRestServer({ endpoints: [sleep], registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0 });
});
after(async () => {
  await srv.close();
});

interface StatusEnvelope {
  error: { code: number; message: string; status: string; details: { "@type": string; reason: string; domain: string; metadata: Record<string, string> }[] };
}

function assertStatus(text: string, httpStatus: number, reason: string): StatusEnvelope {
  const body = JSON.parse(text) as StatusEnvelope;
  assert.equal(body.error.code, httpStatus);
  assert.equal(body.error.status, "INVALID_ARGUMENT");
  const info = body.error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  assert.equal(info?.reason, reason);
  assert.equal(info?.domain, DOMAIN);
  return body;
}

/** Runs `task` over 0..n-1, `width` at a time. */
async function inParallel(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await task(next++);
  }));
}

const payloads = new Map<number, Uint8Array>();
function payload(size: number): Uint8Array {
  let p = payloads.get(size);
  if (p === undefined) payloads.set(size, (p = new Uint8Array(size).fill(0x20)));
  return p;
}

/** A streamed body: fetch sends it chunked (no Content-Length). */
function chunked(size: number): ReadableStream<Uint8Array> {
  const piece = payload(64 * 1024);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(piece.length, size - sent);
      controller.enqueue(n === piece.length ? piece : piece.subarray(0, n));
      sent += n;
    },
  });
}

/** Uploads `count` bodies of `size` bytes; returns how many got the 413 Status (and what else came). */
async function upload(count: number, size: number, mode: "length" | "chunked"): Promise<{ got413: number; other: string[] }> {
  let got413 = 0;
  const other: string[] = [];
  await inParallel(count, 4, async () => {
    try {
      const init: RequestInit & { duplex?: "half" } =
        mode === "length"
          ? { method: "POST", headers: { "content-type": "application/json" }, body: payload(size) }
          : { method: "POST", headers: { "content-type": "application/json" }, body: chunked(size), duplex: "half" };
      const res = await fetch(`${srv.url}/v1/demo:sleep`, init);
      const text = await res.text();
      if (res.status !== 413) {
        other.push(`HTTP ${res.status}: ${text.slice(0, 100)}`);
        return;
      }
      const body = assertStatus(text, 413, Reason.REQUEST_TOO_LARGE);
      assert.equal(body.error.message, `Request payload size exceeds the limit: ${MiB} bytes.`);
      got413++;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      other.push(`${String(e)} (${cause?.code ?? "no code"})`);
    }
  });
  return { got413, other };
}

interface RawReply {
  text: string;
  closed: boolean;
}

/** Connects, writes `head`, then `feed` (if any) until the socket stops taking it; collects the reply. */
function rawCall(head: string, opts: { feed?: (socket: net.Socket) => void; idleMs?: number; maxMs?: number } = {}): Promise<RawReply> {
  return new Promise((resolve) => {
    const socket = net.connect(srv.port, "127.0.0.1");
    const parts: Buffer[] = [];
    let closed = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(idle);
      clearTimeout(max);
      socket.destroy();
      resolve({ text: Buffer.concat(parts).toString("latin1"), closed });
    };
    const max = setTimeout(finish, opts.maxMs ?? 5_000);
    socket.on("data", (c: Buffer) => {
      parts.push(c);
      clearTimeout(idle);
      idle = setTimeout(finish, opts.idleMs ?? 300);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.write(head);
    opts.feed?.(socket);
  });
}

function statusOf(reply: RawReply): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply.text)?.[1] ?? 0);
}

function bodyOf(reply: RawReply): string {
  return reply.text.slice(reply.text.indexOf("\r\n\r\n") + 4);
}

/** Writes `total` bytes (or forever) as fast as the socket drains, stopping when it breaks. */
function keepWriting(total: number, then?: (socket: net.Socket) => void): (socket: net.Socket) => void {
  const piece = Buffer.alloc(64 * 1024, 0x20);
  return (socket) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < total && !socket.destroyed) {
        sent += piece.length;
        if (!socket.write(piece)) {
          socket.once("drain", pump);
          return;
        }
      }
      if (!socket.destroyed) then?.(socket);
    };
    pump();
  };
}

describe("oversized uploads get the 413 Status", () => {
  const runs: [count: number, size: number, mode: "length" | "chunked"][] = [
    [100, 3 * MB, "length"],
    [100, 3 * MB, "chunked"],
    [100, 20 * MB, "length"],
    [100, 20 * MB, "chunked"],
  ];
  for (const [count, size, mode] of runs) {
    it(`${count} fetch uploads of ${size / MB} MB, ${mode === "length" ? "with Content-Length" : "chunked"}`, async () => {
      const started = Date.now();
      const { got413, other } = await upload(count, size, mode);
      console.log(`uploads: ${got413}/${count} × ${size / MB} MB ${mode} got the 413 (${Date.now() - started} ms)`);
      assert.deepEqual(other, []);
      assert.equal(got413, count);
    });
  }

  it("a raw client announcing 1 GiB and writing on gets the 413", async () => {
    const reply = await rawCall(`POST /v1/demo:sleep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${1024 * MiB}\r\n\r\n`, {
      feed: keepWriting(1024 * MiB),
      maxMs: 20_000,
    });
    assert.equal(statusOf(reply), 413, reply.text.slice(0, 300));
    assertStatus(bodyOf(reply).split("\r\n")[0]!, 413, Reason.REQUEST_TOO_LARGE);
  });

  it("a raw client sending a 10 MiB body whole gets the 413 on a connection that stays open", async () => {
    const head = `POST /v1/demo:sleep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${10 * MiB}\r\n\r\n`;
    const reply = await rawCall(head, {
      feed: keepWriting(10 * MiB, (socket) => socket.write("GET /v1/nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")),
      maxMs: 10_000,
    });
    assert.equal(statusOf(reply), 413, reply.text.slice(0, 300));
    assert.doesNotMatch(reply.text.split("\r\n\r\n")[0]!, /connection: close/i);
    assert.match(reply.text, /HTTP\/1\.1 404 /, "the next request on the connection is answered");
  });

  it("Expect: 100-continue: over the limit, 413 without a 100; under it, 100 then the answer", async () => {
    const refused = await rawCall(`POST /v1/demo:sleep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${20 * MB}\r\nExpect: 100-continue\r\n\r\n`);
    assert.equal(statusOf(refused), 413, refused.text.slice(0, 300));
    assert.doesNotMatch(refused.text, /100 Continue/);
    assertStatus(bodyOf(refused), 413, Reason.REQUEST_TOO_LARGE);

    const accepted = await rawCall(`POST /v1/demo:sleep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`, {
      feed: (socket) => socket.once("data", () => socket.write("{}")),
    });
    assert.match(accepted.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, accepted.text.slice(0, 300));
  });

  it("past maxDrainBytes a chunked body is refused at once and the connection closed", async () => {
    const small = await startRestServer({ endpoints: [sleep], registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, maxBodyBytes: 1024, maxDrainBytes: 64 * 1024 });
    try {
      const res = await fetch(`${small.url}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body: payload(32 * 1024) });
      assert.equal(res.status, 413, "within the drain limit");
      assert.notEqual(res.headers.get("connection"), "close");
      await res.text();
      const reply = await new Promise<RawReply>((resolve) => {
        const socket = net.connect(small.port, "127.0.0.1");
        const parts: Buffer[] = [];
        socket.on("data", (c: Buffer) => parts.push(c));
        socket.on("error", () => undefined);
        socket.on("close", () => resolve({ text: Buffer.concat(parts).toString("latin1"), closed: true }));
        socket.write("POST /v1/demo:sleep HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        socket.write(`${(128 * 1024).toString(16)}\r\n${" ".repeat(128 * 1024)}\r\n`); // stops sending: the server must not wait
      });
      assert.equal(statusOf(reply), 413, reply.text.slice(0, 300));
      assert.match(reply.text, /\r\nconnection: close\r\n/i);
    } finally {
      await small.close();
    }
  });
});

describe("unparsable requests get a Status envelope", () => {
  it("a 20 KB URL → 431 REQUEST_HEADERS_TOO_LARGE", async () => {
    const reply = await rawCall(`GET /v1/operations/${"a".repeat(20 * 1000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.equal(statusOf(reply), 431, reply.text.slice(0, 300));
    assert.match(reply.text, /\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    assert.match(reply.text, /\r\nConnection: close\r\n/);
    assert.match(reply.text, /\r\nX-Content-Type-Options: nosniff\r\n/);
    const body = assertStatus(bodyOf(reply), 431, Reason.REQUEST_HEADERS_TOO_LARGE);
    assert.equal(body.error.details[0]?.metadata["limit"], String(16 * 1024));
    assert.ok(reply.closed);
  });

  it("a 20 KB header → 431", async () => {
    const reply = await rawCall(`GET /v1/operations HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20 * 1000)}\r\n\r\n`);
    assert.equal(statusOf(reply), 431, reply.text.slice(0, 300));
    assertStatus(bodyOf(reply), 431, Reason.REQUEST_HEADERS_TOO_LARGE);
  });

  it("a garbage request line → 400 MALFORMED_REQUEST", async () => {
    const reply = await rawCall("GARBAGE\r\n\r\n");
    assert.equal(statusOf(reply), 400, reply.text.slice(0, 300));
    assert.match(reply.text, /\r\nX-Content-Type-Options: nosniff\r\n/);
    const body = assertStatus(bodyOf(reply), 400, Reason.MALFORMED_REQUEST);
    assert.equal(body.error.message, "The request is not valid HTTP/1.1.");
    assert.ok(reply.closed);
  });

  it("a bad header line → 400 MALFORMED_REQUEST", async () => {
    const reply = await rawCall("GET /v1/operations HTTP/1.1\r\nNoColonHere\r\n\r\n");
    assert.equal(statusOf(reply), 400, reply.text.slice(0, 300));
    assertStatus(bodyOf(reply), 400, Reason.MALFORMED_REQUEST);
  });
});
