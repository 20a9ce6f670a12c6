// `longrun auth hash-key` and `longrun auth new-key`: the hashes the auth file holds, made the way the
// server checks them (SHA-256 hex of the key's UTF-8 bytes).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { Code } from "../../src/core/code.js";
import { hashApiKey } from "../../src/auth/api-key-hash.js";
import { runCli, startCli } from "./run.js";

const sha256 = (text: string): string => createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");

async function hashFromStdin(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const running = startCli(["auth", "hash-key"]);
  running.child.stdin!.end(input);
  return running.done;
}

describe("longrun auth", () => {
  it("hashApiKey is the SHA-256 hex of the key's UTF-8 bytes", () => {
    assert.equal(hashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(hashApiKey("clé-ü"), sha256("clé-ü"));
  });

  it("hash-key KEY prints the key's SHA-256 hex", async () => {
    const r = await runCli(["auth", "hash-key", "lr_some-key"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${sha256("lr_some-key")}\n`);
  });

  it("hash-key reads the key from stdin, trimming one trailing newline only", async () => {
    for (const [input, key] of [
      ["lr_piped\n", "lr_piped"],
      ["lr_piped\r\n", "lr_piped"],
      ["lr_piped", "lr_piped"],
      ["lr_piped\n\n", "lr_piped\n"],
    ] as const) {
      const r = await hashFromStdin(input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${sha256(key)}\n`, JSON.stringify(input));
    }
  });

  it("hash-key refuses an empty key (exit 3)", async () => {
    const r = await hashFromStdin("\n");
    assert.equal(r.code, Code.INVALID_ARGUMENT);
    assert.match(r.stderr, /the key is empty/);
    assert.equal(r.stdout, "");
  });

  it("new-key prints a fresh lr_ key, its hash, and an apiKeys entry: all one YAML document", async () => {
    const [a, b] = await Promise.all([runCli(["auth", "new-key"]), runCli(["auth", "new-key", "--principal", "serviceAccount:ci@example"])]);
    for (const r of [a, b]) assert.equal(r.code, 0, r.stderr);
    const first = parse(a.stdout) as { key: string; sha256: string; apiKeys: { sha256: string; principal: string }[] };
    const second = parse(b.stdout) as typeof first;
    assert.match(first.key, /^lr_[A-Za-z0-9_-]{43}$/);
    assert.match(a.stdout, /^key: lr_\S+\nsha256: [0-9a-f]{64}\n/);
    assert.equal(first.sha256, sha256(first.key));
    assert.deepEqual(first.apiKeys, [{ sha256: first.sha256, principal: "serviceAccount:CHANGE-ME" }]);
    assert.deepEqual(second.apiKeys, [{ sha256: sha256(second.key), principal: "serviceAccount:ci@example" }]);
    assert.notEqual(first.key, second.key);
  });
});
