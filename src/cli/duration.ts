const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "5m", "1h30m", "2d" → milliseconds; a bare number is milliseconds. */
export function parseDuration(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw new Error(`"${text}" is not a duration (examples: 500ms, 30s, 5m, 1h30m)`);
  }
  return parts.reduce((total, p) => total + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}
