// @ts-check
// The counters above the list: the collection's operations per method and state, from the API's
// GetOperationCounts (`{list}:counts`), read again when the live stream reports changes — at most once a
// second, however many changes come (the server shares one read a second among all tabs, too).
import { call } from "./api.js";
import { el } from "./view.js";
import { atMostEvery } from "./live.js";

const STATES = ["queued", "running", "paused", "done", "failed", "cancelled"];
const MIN_INTERVAL_MS = 1000;

/**
 * The counters of the collection at `base` (ListOperations' path).
 * @param {string} base @returns {{ node: HTMLElement, refresh: () => void, stop: () => void }}
 */
export function stateCounters(base) {
  const body = el("tbody");
  const status = el("p", { class: "muted", id: "counts-status" });
  const table = el("table", { class: "counts", id: "counts" },
    el("caption", {}, "Operations by method and state"),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "method"), ...STATES.map((s) => el("th", { scope: "col", class: `state-${s}` }, s)))), body);
  const node = el("section", { class: "counters", "aria-label": "Operations by method and state" }, table, status);

  const load = async () => {
    try {
      const answer = await call("GET", `${base}:counts`);
      const methods = Array.isArray(answer.methods) ? answer.methods : [];
      // proto3 JSON leaves zero counts out (and writes int64 as strings).
      const cell = (/** @type {any} */ m, /** @type {string} */ state) => {
        const n = Number(m[state] ?? 0);
        return el("td", { "data-method": String(m.method ?? ""), "data-state": state, class: n === 0 ? "muted" : undefined }, String(n));
      };
      body.replaceChildren(...methods.map((/** @type {any} */ m) => el("tr", {}, el("th", { scope: "row" }, String(m.method ?? "")), ...STATES.map((s) => cell(m, s)))));
      if (methods.length === 0) body.append(el("tr", {}, el("td", { colspan: String(STATES.length + 1), class: "muted" }, "No operations.")));
      status.textContent = "";
    } catch (err) {
      status.textContent = `Counts: ${err instanceof Error ? err.message : String(err)}`;
    }
  };

  /** Reads again, at most once a second: a burst of changes costs one read after it. */
  const reads = atMostEvery(load, MIN_INTERVAL_MS);
  reads.request();
  return { node, refresh: reads.request, stop: reads.stop };
}
