// @ts-check
// Bulk cancel: every operation not done that the list's filter matches, through the same API calls one
// Cancel makes (ListOperations to find them, CancelOperation on each), so the same permission checks apply.
import { ApiError, call, operationPath } from "./api.js";
import { confirmStep, el } from "./view.js";

/** Most operations one bulk cancel asks about: beyond, narrow the filter. */
const MAX_OPERATIONS = 10_000;
/** Cancels in flight at once. */
const CONCURRENCY = 8;

/**
 * A "Cancel matching…" button for the list at `base` with `filter`; `status` shows what it did.
 * @param {string} base @param {string} filter @param {HTMLElement} status @returns {HTMLButtonElement}
 */
export function bulkCancelButton(base, filter, status) {
  const button = /** @type {HTMLButtonElement} */ (el("button", { type: "button", id: "bulk-cancel", class: "danger" }, "Cancel matching…"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const notDone = filter === "" ? "done = false" : `(${filter}) AND done = false`;
      status.replaceChildren(el("span", { class: "muted" }, "Finding the operations not done that the filter matches…"));
      const names = await matching(base, notDone);
      if (names.length === 0) {
        status.replaceChildren(el("span", { class: "muted" }, "No operation not done matches the filter."));
        return;
      }
      const more = names.length >= MAX_OPERATIONS ? ` (the first ${MAX_OPERATIONS}; narrow the filter for the rest)` : "";
      const question = `Cancel ${names.length} operation${names.length === 1 ? "" : "s"} not done${filter === "" ? "" : ` matching ${filter}`}${more}?`;
      if (!(await confirmStep(question, "Cancel them"))) {
        status.replaceChildren();
        return;
      }
      let done = 0;
      /** @type {string[]} */
      const refused = [];
      const report = () => status.replaceChildren(el("span", { id: "bulk-progress" }, `Cancel requested for ${done} of ${names.length}${refused.length ? `; ${refused.length} refused (${refused[0]})` : ""}.`));
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < names.length) {
          const name = /** @type {string} */ (names[next++]);
          try {
            await call("POST", `${operationPath(name)}:cancel`, {});
            done++;
          } catch (err) {
            refused.push(err instanceof ApiError ? `${err.status || err.httpStatus}: ${err.message}` : String(err));
          }
          report();
        }
      }));
      report();
    } catch (err) {
      status.replaceChildren(el("span", { class: "error" }, err instanceof Error ? err.message : String(err)));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** The names ListOperations gives for `filter`, all pages, at most MAX_OPERATIONS. @param {string} base @param {string} filter */
async function matching(base, filter) {
  /** @type {string[]} */
  const names = [];
  let pageToken = "";
  do {
    const q = new URLSearchParams({ filter, pageSize: "1000" });
    if (pageToken !== "") q.set("pageToken", pageToken);
    const page = await call("GET", `${base}?${q}`);
    for (const op of Array.isArray(page.operations) ? page.operations : []) {
      if (names.length < MAX_OPERATIONS) names.push(op.name);
    }
    pageToken = page.nextPageToken ?? "";
  } while (pageToken !== "" && names.length < MAX_OPERATIONS);
  return names;
}
