// @ts-check
// An operation's timeline, from GetOperationDetails (`GET /v1/{name}:details`): created, started (the first
// attempt), a later attempt's start, the last update, finished with its result, and how long each part took.
import { el, formatDuration, formatTime, parseTime, stateOf } from "./view.js";

/** What the operation ended with, in words: done, cancelled, or failed with the error's message. @param {any} op */
function resultOf(op) {
  const state = stateOf(op);
  if (state !== "failed") return state;
  const e = op.error || {};
  return `failed (code ${Number(e.code ?? 0)}${e.message ? `: ${String(e.message)}` : ""})`;
}

/**
 * The timeline as an ordered list; each entry's kind in `data-event` (created, started, attempt, updated,
 * finished, waiting). Every string goes in as text.
 * @param {any} details the OperationDetails as REST renders it @param {any} op the Operation
 * @returns {HTMLElement}
 */
export function timeline(details, op) {
  const created = parseTime(details.createTime);
  const started = parseTime(details.startTime);
  const attemptAt = parseTime(details.attemptTime);
  const updated = parseTime(details.updateTime);
  const ended = parseTime(details.endTime);
  const attempt = Number(details.attempt ?? 0);
  /** @type {HTMLElement[]} */
  const entries = [];
  const entry = (/** @type {string} */ kind, /** @type {string} */ label, /** @type {number} */ at, /** @type {string | undefined} */ note) =>
    entries.push(el("li", { "data-event": kind },
      el("time", { datetime: new Date(at).toISOString() }, formatTime(at)), " ", el("span", { class: "what" }, label),
      note === undefined ? undefined : el("span", { class: "muted" }, ` · ${note}`)));
  if (created !== undefined) entry("created", "created", created, undefined);
  if (started !== undefined) {
    entry("started", "started (first attempt)", started, created === undefined ? undefined : `queued ${formatDuration(started - created)}`);
  } else if (ended === undefined) {
    entries.push(el("li", { "data-event": "waiting", class: "muted" }, "not started yet: queued"));
  }
  if (attempt > 1 && attemptAt !== undefined) {
    entry("attempt", `attempt ${attempt} started`, attemptAt, started === undefined ? undefined : `${formatDuration(attemptAt - started)} after the first`);
  }
  if (updated !== undefined && updated !== ended && updated !== created) entry("updated", "last update", updated, undefined);
  if (ended !== undefined) {
    const parts = [];
    if (started !== undefined) parts.push(`ran ${formatDuration(ended - started)}`);
    if (created !== undefined) parts.push(`${formatDuration(ended - created)} in all`);
    entry("finished", `finished: ${resultOf(op)}`, ended, parts.length === 0 ? undefined : parts.join(", "));
  } else if (started !== undefined) {
    entries.push(el("li", { "data-event": "running", class: "muted" }, `running for ${formatDuration(Date.now() - (attemptAt ?? started))}`));
  }
  return el("ol", { class: "timeline", "aria-label": "Timeline" }, ...entries);
}
