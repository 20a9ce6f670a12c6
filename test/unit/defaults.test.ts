import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { DEFAULTS, type DefaultSetting } from "../../src/core/defaults.js";

// docs/configuration.md writes every default down; this holds it to the table the code reads.
const doc = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

/** The cells of the docs' table row whose first cell starts with `start`. */
function row(start: string): string[] | undefined {
  const line = doc.split("\n").find((l) => l.startsWith(`| ${start}`));
  return line?.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
}

const entries = Object.entries(DEFAULTS) as [string, DefaultSetting<unknown>][];

describe("docs/configuration.md against DEFAULTS", () => {
  it("lists every flag with its environment variable and default", () => {
    for (const [name, setting] of entries) {
      if (setting.flag === undefined) continue;
      const cells = row(`\`${setting.flag}`);
      assert.ok(cells, `${name}: no row for ${setting.flag}`);
      assert.equal(cells[1], `\`${setting.env}\``, `${name}: environment variable of ${setting.flag}`);
      assert.equal(cells[2], `\`${setting.shown}\``, `${name}: default of ${setting.flag}`);
    }
  });

  it("lists every default without a flag", () => {
    for (const [name, setting] of entries) {
      if (setting.flag !== undefined) continue;
      const cells = row(`\`${name}\``);
      assert.ok(cells, `${name}: no row`);
      assert.equal(cells[1], `\`${setting.shown}\``, `${name}: default`);
    }
  });
});

describe("the per-operation caps against the List page budget", () => {
  it("an operation within every cap (and a name) fits in a page on its own", () => {
    const { maxResponseBytes, maxMetadataBytes, maxErrorBytes, maxListResponseBytes } = DEFAULTS;
    const nameAndOverhead = 64 * 1024;
    assert.ok(maxResponseBytes.value + maxMetadataBytes.value + maxErrorBytes.value + nameAndOverhead < maxListResponseBytes.value);
    assert.ok(maxListResponseBytes.value <= DEFAULTS.maxReceiveMessageBytes.value / 2, "half of grpc-js's default receive limit");
  });
});
