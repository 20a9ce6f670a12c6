/** Instants and durations as exact nanoseconds: parsing, and the sortable key both stores derive. */
import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { durationDecimal, durationParts, parseDuration, parseTimestamp, timestampKey } from "../../src/filter/time.js";

const MIN = -62_135_596_800_000_000_000n; // 0001-01-01T00:00:00Z
const MAX = 253_402_300_799_999_999_999n; // 9999-12-31T23:59:59.999999999Z
const instant = fc.bigInt({ min: MIN, max: MAX });

/** RFC 3339 in the Z-normalized form proto3 JSON writes, with 9 fractional digits. */
function rfc3339(nanos: bigint): string {
  const key = timestampKey(nanos);
  return `${key.slice(0, 19)}.${key.slice(19)}Z`;
}

it("orders timestamp keys as the instants they stand for, and parses them back", () => {
  fc.assert(
    fc.property(instant, instant, (a, b) => {
      const order = Math.sign(Number(a - b));
      const keyOrder = timestampKey(a) < timestampKey(b) ? -1 : timestampKey(a) > timestampKey(b) ? 1 : 0;
      assert.equal(keyOrder, order);
      assert.equal(parseTimestamp(rfc3339(a)), a);
    }),
    { numRuns: 500 },
  );
});

it("agrees with Date on whole milliseconds, offsets included", () => {
  fc.assert(
    fc.property(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), (ms) => {
      const iso = new Date(ms).toISOString();
      if (!iso.startsWith("-") && !iso.startsWith("+")) assert.equal(parseTimestamp(iso), BigInt(ms) * 1_000_000n);
    }),
  );
  assert.equal(parseTimestamp("2012-04-21T11:30:00-04:00"), parseTimestamp("2012-04-21T15:30:00Z"));
  assert.equal(parseTimestamp("2024-02-29T23:59:59.999999999+23:59"), parseTimestamp("2024-02-29T00:00:59.999999999Z"));
  for (const bad of ["2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z", "0000-12-31T23:59:59Z", "2024-01-01T00:00:00+24:00", "2024-1-01T00:00:00Z"]) {
    assert.equal(parseTimestamp(bad), undefined, bad);
  }
});

it("reads durations exactly, and splits them as google.protobuf.Duration does", () => {
  assert.equal(parseDuration("-1.5s"), -1_500_000_000n);
  assert.equal(parseDuration("0.000000001s"), 1n);
  assert.equal(parseDuration("315576000000s"), 315_576_000_000_000_000_000n);
  assert.equal(parseDuration("315576000001s"), undefined);
  assert.equal(parseDuration("1.5"), undefined);
  assert.deepEqual(durationParts(-1_500_000_000n), { seconds: -1n, nanos: -500_000_000n });
  assert.deepEqual(durationParts(-1n), { seconds: 0n, nanos: -1n });
  assert.equal(durationDecimal(-1_500_000_000n), "-1.5");
  assert.equal(durationDecimal(20_000_000_000n), "20");
});
