// @ts-check
// The throughput chart: operations started and finished per minute over the last hour, from the API's
// GetOperationActivity (`{list}:activity`), drawn as SVG (attributes only: the page's CSP allows no inline style).
import { call } from "./api.js";
import { el } from "./view.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 90;
const REFRESH_MS = 10_000;

/** @param {string} tag @param {Record<string, string | number>} attrs @param {(Node | string)[]} children */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

/**
 * The chart for the collection at `base` (ListOperations' path), kept fresh every 10 s while shown.
 * @param {string} base @returns {{ node: HTMLElement, stop: () => void }}
 */
export function activityChart(base) {
  const summary = el("p", { class: "muted", id: "activity-summary" }, "Activity: loading…");
  const holder = el("div", { class: "chart" });
  const node = el("section", { class: "activity", "aria-label": "Operations started and finished per minute, last hour" }, holder, summary);
  let timer = 0;
  let stopped = false;
  const draw = async () => {
    try {
      const report = await call("GET", `${base}:activity?window=3600s&bucket=60s`);
      const buckets = (Array.isArray(report.buckets) ? report.buckets : []).map((/** @type {any} */ b) => ({
        start: String(b.startTime ?? ""),
        started: Number(b.started ?? 0),
        finished: Number(b.finished ?? 0),
      }));
      const max = Math.max(1, ...buckets.map((b) => Math.max(b.started, b.finished)));
      const slot = WIDTH / Math.max(1, buckets.length);
      const bar = Math.max(1, slot / 2 - 1);
      const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", width: "100%", height: HEIGHT, role: "img", "aria-labelledby": "activity-summary", class: "activity-chart" });
      buckets.forEach((b, i) => {
        const title = `${b.start.slice(11, 16)} UTC: ${b.started} started, ${b.finished} finished`;
        const x = i * slot;
        const hs = (b.started / max) * (HEIGHT - 2);
        const hf = (b.finished / max) * (HEIGHT - 2);
        chart.append(
          svg("rect", { x, y: HEIGHT - hs, width: bar, height: hs, class: "started" }, svg("title", {}, title)),
          svg("rect", { x: x + bar + 1, y: HEIGHT - hf, width: bar, height: hf, class: "finished" }, svg("title", {}, title)),
        );
      });
      holder.replaceChildren(chart);
      const last = buckets[buckets.length - 1] ?? { started: 0, finished: 0 };
      const hour = buckets.reduce((t, b) => ({ started: t.started + b.started, finished: t.finished + b.finished }), { started: 0, finished: 0 });
      const perSecond = (/** @type {number} */ n) => (n / 60).toFixed(n >= 600 ? 0 : 1);
      summary.textContent = `This minute: ${last.started} started, ${last.finished} finished (${perSecond(last.started)}/s, ${perSecond(last.finished)}/s). ` +
        `Last hour: ${hour.started} started, ${hour.finished} finished (peak ${max} a minute, ${perSecond(max)}/s).`;
    } catch (err) {
      summary.textContent = `Activity: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!stopped) timer = window.setTimeout(draw, REFRESH_MS);
  };
  void draw();
  return {
    node,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
