const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * "1MiB", "512 KiB", "2MB", "65536" → bytes (a bare number is bytes; KB/MB/GB are decimal, KiB/MiB/GiB
 * binary, any case). A size of 0, a fraction of a byte or an unknown unit is refused.
 */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match === null ? undefined : UNITS[(match[2] || "b").toLowerCase()];
  if (match === null || unit === undefined) {
    throw new Error(`"${text}" is not a size (examples: 65536, 512KiB, 1MiB, 2MB)`);
  }
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`"${text}" is not a whole number of bytes above 0`);
  return bytes;
}
