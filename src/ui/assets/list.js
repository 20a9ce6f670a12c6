// @ts-check
// The list: ListOperations with the filter, page size and page token the URL holds; live rows.
import { ApiError, call, config, listPath, operationPath, pagePath } from "./api.js";
import { durationOf, el, errorBox, formatTime, methodOf, progressCell, stateBadge, stateOf, timesOf } from "./view.js";
import { atMostEvery, watch } from "./live.js";
import { bulkCancelButton } from "./bulk.js";
import { activityChart } from "./chart.js";
import { stateCounters } from "./counters.js";

const PAGE_SIZES = ["10", "25", "50", "100", "200"];
const QUICK = [
  ["all", ""],
  ["running", "done = false"],
  ["done", "done = true AND NOT error:*"],
  ["failed", "error:* AND error.code != CANCELLED"],
  ["cancelled", "error.code = CANCELLED"],
];
/** More changed rows than this on the page: the page is read again in one call instead of row by row. */
const MAX_ROW_READS = 10;

/** @param {HTMLElement} main @returns {() => void} */
export function listPage(main) {
  const params = new URL(location.href).searchParams;
  const filter = params.get("filter") ?? "";
  const pageSize = params.get("pageSize") ?? "25";
  const pageToken = params.get("pageToken") ?? "";
  const parent = params.get("parent") ?? "";
  /** Tokens of the pages before this one, so that Previous goes back (kept in the history entry). @type {string[]} */
  const stack = Array.isArray(history.state?.stack) ? history.state.stack : [];
  document.title = "Operations · longrun";

  const go = (/** @type {Record<string, string>} */ next, /** @type {string[]} */ nextStack) => {
    const url = new URL(location.href);
    url.search = "";
    for (const [k, v] of Object.entries({ parent, filter, pageSize, ...next })) if (v !== "") url.searchParams.set(k, v);
    history.pushState({ stack: nextStack }, "", url);
    dispatchEvent(new PopStateEvent("popstate", { state: { stack: nextStack } }));
  };

  const input = /** @type {HTMLInputElement} */ (el("input", { type: "search", id: "filter", "aria-label": "Filter (AIP-160)", placeholder: 'done = false AND metadata.progress_percent > 50', spellcheck: "false" }));
  input.value = filter;
  const sizeSelect = /** @type {HTMLSelectElement} */ (el("select", { id: "page-size", "aria-label": "Page size" }, ...PAGE_SIZES.map((s) => el("option", { value: s, selected: s === pageSize }, s))));
  const parentInput = /** @type {HTMLInputElement} */ (el("input", { type: "text", id: "parent", "aria-label": `Parent (${config.parentPattern})`, placeholder: config.parentPattern }));
  parentInput.value = parent;
  const form = el("form", { class: "filter", role: "search" },
    config.parentPattern !== "" ? parentInput : undefined, input, el("button", { type: "submit" }, "Filter"), el("label", {}, "Page size ", sizeSelect));
  const quick = el("nav", { class: "quick", "aria-label": "Quick filters" },
    ...QUICK.map(([label, f]) => {
      const b = el("button", { type: "button", "data-state": label, "aria-pressed": String(f === filter) }, label);
      b.addEventListener("click", () => go({ filter: f, pageToken: "" }, []));
      return b;
    }));
  // Quick filters by method: the served methods, from the page's config.
  const methodSelect = /** @type {HTMLSelectElement} */ (el("select", { id: "method", "aria-label": "Method" },
    el("option", { value: "" }, "any method"), ...config.methods.map((m) => el("option", { value: m.name, selected: filter === `method = "${m.name}"` }, m.name))));
  methodSelect.addEventListener("change", () => go({ filter: methodSelect.value === "" ? "" : `method = "${methodSelect.value}"`, pageToken: "" }, []));
  quick.append(methodSelect);
  const problem = el("div", { id: "filter-error" });
  const body = el("tbody");
  const table = el("table", { class: "operations" },
    el("thead", {}, el("tr", {}, ...["name", "method", "state", "progress", "created", "updated", "duration"].map((h) => el("th", { scope: "col" }, h)))), body);
  const prev = el("button", { type: "button", id: "prev", disabled: pageToken === "" }, "← Previous");
  const next = el("button", { type: "button", id: "next", disabled: true }, "Next →");
  const count = el("span", { class: "muted", id: "count" });
  const bulkStatus = el("div", { id: "bulk-status", role: "status", "aria-live": "polite" });
  // The chart of the collection (not of the filter): how busy it is, whatever is shown below.
  const chart = config.parentPattern !== "" && parent === "" ? undefined : activityChart(listPath(parent));
  // The counters of the collection too, refreshed by the live stream below.
  const counters = chart === undefined ? undefined : stateCounters(listPath(parent));
  main.replaceChildren(el("h1", {}, "Operations"), chart?.node ?? "", counters?.node ?? "", form, quick, problem, table, el("nav", { class: "pager", "aria-label": "Pages" }, prev, count, next),
    el("div", { class: "bulk" }, bulkCancelButton(listPath(parent), filter, bulkStatus), bulkStatus));

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go({ filter: input.value.trim(), pageSize: sizeSelect.value, parent: parentInput.value.trim(), pageToken: "" }, []);
  });
  sizeSelect.addEventListener("change", () => go({ pageSize: sizeSelect.value, pageToken: "" }, []));
  prev.addEventListener("click", () => {
    const back = stack.slice(0, -1);
    go({ pageToken: stack[stack.length - 1] ?? "" }, back);
  });
  /** @type {string} */
  let nextToken = "";
  next.addEventListener("click", () => go({ pageToken: nextToken }, [...stack, pageToken]));

  /** The rows shown, by operation name. @type {Map<string, HTMLTableRowElement>} */
  const rows = new Map();
  const base = listPath(parent);

  const row = (/** @type {any} */ op) => {
    const { created, updated } = timesOf(op);
    const link = el("a", { href: pagePath(op.name) }, op.name);
    return /** @type {HTMLTableRowElement} */ (el("tr", { "data-name": op.name, "data-state": stateOf(op) },
      el("td", { class: "name" }, link), el("td", {}, methodOf(op)), el("td", {}, stateBadge(stateOf(op))), el("td", {}, progressCell(op)),
      el("td", {}, formatTime(created)), el("td", {}, formatTime(updated)), el("td", {}, durationOf(op))));
  };

  const load = async () => {
    if (config.parentPattern !== "" && parent === "") {
      problem.replaceChildren(el("p", { class: "muted" }, `Give the parent whose operations to list (${config.parentPattern}).`));
      return;
    }
    const q = new URLSearchParams();
    if (filter !== "") q.set("filter", filter);
    q.set("pageSize", pageSize);
    if (pageToken !== "") q.set("pageToken", pageToken);
    try {
      const page = await call("GET", `${base}?${q}`);
      problem.replaceChildren();
      input.removeAttribute("aria-invalid");
      const ops = Array.isArray(page.operations) ? page.operations : [];
      rows.clear();
      body.replaceChildren(...ops.map((op) => {
        const r = row(op);
        rows.set(op.name, r);
        return r;
      }));
      if (ops.length === 0) body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "No operations.")));
      nextToken = page.nextPageToken ?? "";
      next.toggleAttribute("disabled", nextToken === "");
      count.textContent = `${ops.length} on this page`;
    } catch (err) {
      showError(err);
    }
  };

  const showError = (/** @type {unknown} */ err) => {
    const box = errorBox(err);
    if (err instanceof ApiError && err.info.field === "filter") {
      input.setAttribute("aria-invalid", "true");
      const column = Number(err.info.column);
      if (Number.isInteger(column) && column > 0) {
        box.append(el("pre", { class: "caret" }, `${filter}\n${" ".repeat(column - 1)}^ column ${column}`));
        input.focus();
        input.setSelectionRange(column - 1, column - 1);
      }
    }
    problem.replaceChildren(box);
  };

  /** Reads the whole page again, at most once a second however often it is asked. */
  const reloads = atMostEvery(load, 1000);
  const reload = reloads.request;
  const refreshRow = async (/** @type {string} */ name) => {
    try {
      const op = await call("GET", operationPath(name));
      const old = rows.get(name);
      if (old === undefined) return;
      const fresh = row(op);
      old.replaceWith(fresh);
      rows.set(name, fresh);
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 404) rows.get(name)?.remove();
    }
  };
  const stop = watch(base, (changes) => {
    if (changes.resync || changes.changed.length > 0 || changes.deleted.length > 0) counters?.refresh();
    for (const name of changes.deleted) {
      rows.get(name)?.remove();
      rows.delete(name);
    }
    const shown = changes.changed.filter((n) => rows.has(n));
    // On the first page, operations not shown may be new ones that belong at its top.
    const fresh = pageToken === "" && changes.changed.length > shown.length;
    if (changes.resync || fresh || shown.length > MAX_ROW_READS) reload();
    else for (const name of shown) void refreshRow(name);
  });
  void load();
  return () => {
    stop();
    chart?.stop();
    counters?.stop();
    reloads.stop();
  };
}
