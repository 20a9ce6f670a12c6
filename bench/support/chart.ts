/**
 * Hand-written SVG charts for benchmark results: no dependency, readable in a browser or on GitHub.
 */

export interface BarSeries {
  name: string;
  /** One value per group, in the order of the groups; undefined where the group has no such measurement. */
  values: readonly (number | undefined)[];
}

export interface BarChartOptions {
  /** Printed after each value and on the axis, e.g. "jobs/s". */
  unit?: string;
  /** Pixel width of the whole chart. @default 900 */
  width?: number;
}

/** Distinct enough in colour and in greyscale. */
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#d62728"];

const BAR_HEIGHT = 14;
const BAR_GAP = 3;
const GROUP_GAP = 12;
const VALUE_ROOM = 90;
const TOP = 58;
const BOTTOM = 34;
/** Average advance of a 12px sans-serif character, to lay out the legend. */
const APPROX_CHAR_WIDTH = 6.6;

/**
 * A horizontal grouped bar chart: one row of bars per group (a system, say), one bar per series (a mode),
 * a legend on top and a value axis at the bottom. Horizontal, so long group labels stay legible.
 */
export function barChartSvg(title: string, groups: readonly string[], series: readonly BarSeries[], options: BarChartOptions = {}): string {
  const width = options.width ?? 900;
  // No text metrics in SVG: the label column is sized from the longest label's estimated width.
  const labelWidth = Math.ceil(Math.max(120, ...groups.map((g) => g.length * APPROX_CHAR_WIDTH + 16)));
  const unit = options.unit ? ` ${options.unit}` : "";
  const plotWidth = width - labelWidth - VALUE_ROOM;
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v): v is number => v !== undefined)));
  const axisMax = niceCeiling(max);
  const groupHeight = series.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const height = TOP + groups.length * (groupHeight + GROUP_GAP) + BOTTOM;
  const x = (value: number): number => labelWidth + (value / axisMax) * plotWidth;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  let legendX = labelWidth;
  series.forEach((s, i) => {
    parts.push(`<rect x="${legendX}" y="32" width="12" height="12" fill="${color(i)}"/>`);
    parts.push(`<text x="${legendX + 17}" y="42">${escapeXml(s.name)}</text>`);
    legendX += 17 + s.name.length * APPROX_CHAR_WIDTH + 24; // no text metrics in SVG: estimate the width
  });

  const ticks = 5;
  const plotBottom = height - BOTTOM;
  for (let t = 0; t <= ticks; t++) {
    const value = (axisMax * t) / ticks;
    const tx = x(value);
    parts.push(`<line x1="${tx}" y1="${TOP - 6}" x2="${tx}" y2="${plotBottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${tx}" y="${plotBottom + 15}" text-anchor="middle" fill="#555">${formatNumber(value)}</text>`);
  }
  parts.push(`<text x="${labelWidth + plotWidth / 2}" y="${plotBottom + 29}" text-anchor="middle" fill="#555">${escapeXml(unit.trim())}</text>`);

  groups.forEach((group, g) => {
    const gy = TOP + g * (groupHeight + GROUP_GAP);
    parts.push(`<text x="${labelWidth - 8}" y="${gy + groupHeight / 2 + 4}" text-anchor="end">${escapeXml(group)}</text>`);
    series.forEach((s, i) => {
      const value = s.values[g];
      const by = gy + i * (BAR_HEIGHT + BAR_GAP);
      if (value === undefined) {
        parts.push(`<text x="${labelWidth + 4}" y="${by + BAR_HEIGHT - 3}" fill="#999">not measured</text>`);
        return;
      }
      const bw = Math.max(1, x(value) - labelWidth);
      parts.push(`<rect x="${labelWidth}" y="${by}" width="${bw.toFixed(1)}" height="${BAR_HEIGHT}" fill="${color(i)}"/>`);
      parts.push(`<text x="${(labelWidth + bw + 4).toFixed(1)}" y="${by + BAR_HEIGHT - 3}">${formatNumber(value)}${escapeXml(unit)}</text>`);
    });
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

function color(i: number): string {
  return PALETTE[i % PALETTE.length] as string;
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k) at or above `value`, for the axis. */
function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function formatNumber(value: number): string {
  if (value >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString("en");
  return value.toFixed(value >= 10 ? 0 : 1);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
