import { it } from "node:test";
import assert from "node:assert/strict";
import { parseDuration } from "../../src/cli/duration.js";

it("parses the durations the CLI accepts", () => {
  assert.equal(parseDuration("250"), 250);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("1.5s"), 1500);
  for (const bad of ["", "s", "5x", "5 s", "-5s", "5s garbage"]) assert.throws(() => parseDuration(bad), /not a duration/, bad);
});
