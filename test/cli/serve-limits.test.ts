// `longrun serve --max-…`: every size limit of docs/api.md ("Limits") is a flag (and an environment
// variable), and the running server holds requests and operations to what was given.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSize } from "../../src/cli/size.js";
import { spawnServer, type ServerProcess } from "../support/process.js";

describe("parseSize", () => {
  it("bytes, decimal and binary units, any case, a space allowed", () => {
    assert.equal(parseSize("65536"), 65536);
    assert.equal(parseSize("1MiB"), 1024 * 1024);
    assert.equal(parseSize("1 MiB"), 1024 * 1024);
    assert.equal(parseSize("512kib"), 512 * 1024);
    assert.equal(parseSize("2MB"), 2_000_000);
    assert.equal(parseSize("1.5KiB"), 1536);
    assert.equal(parseSize("10b"), 10);
  });

  it("refuses zero, fractions of a byte, unknown units, negative numbers, junk", () => {
    for (const text of ["0", "0KiB", "1.5", "0.0001KB", "1 TiB", "1MiBs", "-1", "", "KiB", "1e6", "1,024"]) {
      assert.throws(() => parseSize(text), /is not a (size|whole number of bytes)/, text);
    }
  });
});

describe("longrun serve with size limits", () => {
  let dir: string;
  let server: ServerProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "longrun-serve-limits-"));
    server = await spawnServer(
      ["--demo", "--store", `sqlite:${join(dir, "ops.db")}`, "--max-body", "2KiB", "--max-header", "2KiB", "--max-list-response", "3KiB"],
      { LONGRUN_MAX_ERROR: "512" },
    );
  });
  after(() => {
    server?.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  interface Envelope {
    error?: { code: number; details: { reason?: string; metadata?: Record<string, string> }[] };
    name?: string;
    done?: boolean;
    operations?: { name: string }[];
    nextPageToken?: string;
  }
  const call = async (path: string, body?: unknown): Promise<{ status: number; json: Envelope }> => {
    const init: RequestInit = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    const res = await fetch(`${server.httpUrl}${path}`, init);
    return { status: res.status, json: (await res.json()) as Envelope };
  };
  const info = (json: Envelope) => json.error?.details.find((d) => d.reason !== undefined);

  it("--max-body 2KiB: a 3 KB body is 413 with the limit; a small one starts", async () => {
    const big = await call("/v1/demo:sleep", { duration: "0s", failWith: { code: 9, message: "x".repeat(3000) } });
    assert.equal(big.status, 413);
    assert.equal(info(big.json)?.reason, "REQUEST_TOO_LARGE");
    assert.equal(info(big.json)?.metadata?.["limit"], "2048");
    const small = await call("/v1/demo:sleep", { duration: "0s" });
    assert.equal(small.status, 200);
  });

  it("--max-header 2KiB: a 3 KB URL is 431 with the limit", async () => {
    const res = await call(`/v1/operations?filter=${"a".repeat(3000)}`);
    assert.equal(res.status, 431);
    assert.equal(info(res.json)?.reason, "REQUEST_HEADERS_TOO_LARGE");
    assert.equal(info(res.json)?.metadata?.["limit"], "2048");
  });

  it("LONGRUN_MAX_ERROR=512: an operation failing with a 1.5 KB error holds it cut to 512 bytes, with a note", async () => {
    const started = await call("/v1/demo:sleep", { duration: "0s", failWith: { code: 9, message: "y".repeat(1500) } });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    const done = (await call(`/v1/${started.json.name}:wait`, {})).json as Envelope & { error?: { code: number; message: string } };
    assert.equal(done.done, true);
    assert.equal(done.error?.code, 9);
    assert.match(done.error?.message ?? "", /^y+ … \[truncated: the error was \d+ bytes, over the 512-byte limit\]$/);
    assert.ok(Buffer.byteLength(done.error?.message ?? "") < 512);
  });

  it("--max-list-response 3KiB: a List page stops at the budget with a next page token, and the pages hold every operation once", async () => {
    for (let i = 0; i < 30; i++) assert.equal((await call("/v1/demo:sleep", { duration: "0s", requestId: `list-${i}` })).status, 200);
    const seen = new Set<string>();
    let token = "";
    let pages = 0;
    do {
      const res = await call(`/v1/operations?pageSize=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ""}`);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      for (const op of res.json.operations ?? []) {
        assert.ok(!seen.has(op.name), `${op.name} listed twice`);
        seen.add(op.name);
      }
      token = res.json.nextPageToken ?? "";
      pages++;
    } while (token !== "");
    assert.ok(seen.size >= 30, `${seen.size} listed`);
    assert.ok(pages >= 2, `${pages} page(s): the 3 KiB budget cut the first`);
  });

  it("a size flag that is not a size is a usage error before the server starts", async () => {
    await assert.rejects(spawnServer(["--demo", "--store", `sqlite:${join(dir, "bad.db")}`, "--max-body", "lots"]), /"lots" is not a size/);
  });
});
