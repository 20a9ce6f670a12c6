// @ts-check
// An operation's timeline, from GetOperationDetails (`GET /v1/{name}:details`): created, started (the first
// attempt), a later attempt's start, the last attempt that failed and was retried, the last update, finished
// with its result (or, while queued, when the next attempt may run), the deadline, and how long each part took.
import { el, formatDuration, formatTime, parseTime, stateOf } from "./view.js";

/** google.rpc.Code names by number, as REST renders a Status's code (a number). */
const CODE_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

/** A Status's code by name (its number if unknown). @param {unknown} code */
function codeName(code) {
  const n = Number(code ?? 0);
  return CODE_NAMES[n] ?? `code ${n}`;
}

/** What the operation ended with, in words: done, cancelled, or failed with the error's message. @param {any} op */
function resultOf(op) {
  const state = stateOf(op);
  if (state !== "failed") return state;
  const e = op.error || {};
  return `failed (code ${Number(e.code ?? 0)}${e.message ? `: ${String(e.message)}` : ""})`;
}

/**
 * The timeline as an ordered list; each entry's kind in `data-event` (created, started, attempt,
 * attempt-failed, updated, finished, waiting, next-attempt, running, deadline). Every string goes in as text.
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
  const next = parseTime(details.nextAttemptTime);
  const deadline = parseTime(details.deadline);
  /** @type {HTMLElement[]} */
  const entries = [];
  const entry = (/** @type {string} */ kind, /** @type {string} */ label, /** @type {number} */ at, /** @type {string | undefined} */ note) =>
    entries.push(el("li", { "data-event": kind },
      el("time", { datetime: new Date(at).toISOString() }, formatTime(at)), " ", el("span", { class: "what" }, label),
      note === undefined ? undefined : el("span", { class: "muted" }, ` · ${note}`)));
  /** An entry about a time to come (or set ahead): its words, then the time. */
  const ahead = (/** @type {string} */ kind, /** @type {string} */ label, /** @type {number} */ at, /** @type {string | undefined} */ note) =>
    entries.push(el("li", { "data-event": kind },
      el("span", { class: "what" }, `${label} `), el("time", { datetime: new Date(at).toISOString() }, formatTime(at)),
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
  // A failed attempt put back to be retried: when it failed is not kept, so it stands untimed before what followed.
  const failure = details.lastFailure;
  if (failure !== undefined) {
    const e = failure.error || {};
    entries.push(el("li", { "data-event": "attempt-failed" },
      el("span", { class: "what" }, `attempt ${Number(failure.attempt ?? 0)} failed: ${codeName(e.code)}${e.message ? ` ${String(e.message)}` : ""}`)));
  }
  if (updated !== undefined && updated !== ended && updated !== created) entry("updated", "last update", updated, undefined);
  if (ended !== undefined) {
    const parts = [];
    if (started !== undefined) parts.push(`ran ${formatDuration(ended - started)}`);
    if (created !== undefined) parts.push(`${formatDuration(ended - created)} in all`);
    entry("finished", `finished: ${resultOf(op)}`, ended, parts.length === 0 ? undefined : parts.join(", "));
  } else if (next !== undefined) {
    // Queued until then: a delayed start, or a failed attempt's backoff.
    ahead("next-attempt", "next attempt at", next, next > Date.now() ? `in ${formatDuration(next - Date.now())}` : "due");
  } else if (started !== undefined && details.state !== "STATE_QUEUED") {
    entries.push(el("li", { "data-event": "running", class: "muted" }, `running for ${formatDuration(Date.now() - (attemptAt ?? started))}`));
  }
  if (deadline !== undefined) ahead("deadline", "deadline", deadline, ended === undefined && deadline > Date.now() ? `in ${formatDuration(deadline - Date.now())}` : undefined);
  return el("ol", { class: "timeline", "aria-label": "Timeline" }, ...entries);
}
