/**
 * Timestamps and durations as exact integers of nanoseconds (bigint), the way filters compare them:
 * parsing of literals and of the strings proto3 JSON stores, and the forms the SQL compares.
 */

const NANOS_PER_SECOND = 1_000_000_000n;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds: google.protobuf.Timestamp's range. */
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;
/** google.protobuf.Duration's range: ±10,000 years. */
const MAX_DURATION_SECONDS = 315_576_000_000n;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DURATION = /^([+-])?(\d+)(?:\.(\d{1,9}))?s$/;

/**
 * An RFC 3339 timestamp (`2024-01-31T12:00:00Z`, `2012-04-21T11:30:00.25-04:00`; at most 9 fractional
 * digits; no leap second) as nanoseconds since the epoch; undefined if it is not one, or out of the
 * range of google.protobuf.Timestamp.
 */
export function parseTimestamp(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let seconds = daysFromCivil(year, month, day) * 86_400n + BigInt(hour * 3600 + minute * 60 + second);
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMinutes = Number(m[10]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    const offset = BigInt(offsetHours * 3600 + offsetMinutes * 60);
    seconds -= m[8] === "+" ? offset : -offset;
  }
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) return undefined;
  return seconds * NANOS_PER_SECOND + fraction(m[7]);
}

/** A proto3 JSON duration (`20s`, `1.5s`, `-0.000000001s`) as nanoseconds; undefined if not one or out of range. */
export function parseDuration(text: string): bigint | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const seconds = BigInt(m[2]!);
  if (seconds > MAX_DURATION_SECONDS) return undefined;
  const nanos = seconds * NANOS_PER_SECOND + fraction(m[3]);
  return m[1] === "-" ? -nanos : nanos;
}

/**
 * The sortable text form of an instant: `YYYY-MM-DDTHH:MM:SS` and nine fractional digits, no dot, no
 * zone (`2024-01-31T12:00:00500000000`). Both stores derive the same form from the Z-normalized RFC 3339
 * strings proto3 JSON stores (0, 3, 6 or 9 fractional digits), so comparing these texts byte by byte
 * compares the instants exactly, nanoseconds included.
 */
export function timestampKey(nanos: bigint): string {
  const seconds = floorDiv(nanos, NANOS_PER_SECOND);
  const subsecond = nanos - seconds * NANOS_PER_SECOND;
  const days = floorDiv(seconds, 86_400n);
  const secondOfDay = Number(seconds - days * 86_400n);
  const [year, month, day] = civilFromDays(days);
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return (
    `${pad(year, 4)}-${pad(month)}-${pad(day)}T` +
    `${pad(Math.floor(secondOfDay / 3600))}:${pad(Math.floor(secondOfDay / 60) % 60)}:${pad(secondOfDay % 60)}` +
    String(subsecond).padStart(9, "0")
  );
}

/** A duration split as google.protobuf.Duration holds it: seconds, and nanos of the same sign. */
export function durationParts(nanos: bigint): { seconds: bigint; nanos: bigint } {
  const seconds = nanos / NANOS_PER_SECOND; // truncates toward zero
  return { seconds, nanos: nanos - seconds * NANOS_PER_SECOND };
}

/** A duration as an exact decimal number of seconds (`-1.5`, `20`, `0.000000001`). */
export function durationDecimal(nanos: bigint): string {
  const sign = nanos < 0n ? "-" : "";
  const abs = nanos < 0n ? -nanos : nanos;
  const whole = abs / NANOS_PER_SECOND;
  const frac = abs % NANOS_PER_SECOND;
  return frac === 0n ? `${sign}${whole}` : `${sign}${whole}.${String(frac).padStart(9, "0").replace(/0+$/, "")}`;
}

/** Division rounding toward negative infinity. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Division rounding toward positive infinity. */
export function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

function fraction(digits: string | undefined): bigint {
  return digits === undefined ? 0n : BigInt(digits.padEnd(9, "0"));
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): bigint {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return BigInt(era * 146_097 + doe - 719_468);
}

/** The inverse of daysFromCivil. */
function civilFromDays(days: bigint): [year: number, month: number, day: number] {
  const z = Number(days) + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}
