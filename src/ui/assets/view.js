// @ts-check
// Building the page: every string goes in as a text node (never as HTML), and what an Operation says.
import { config } from "./api.js";

/**
 * An element with attributes and children; strings become text nodes, so nothing from an operation is
 * ever parsed as HTML.
 * @param {string} tag @param {Record<string, string | boolean | undefined>} [attrs] @param {(Node | string | undefined | false)[]} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/**
 * What an operation is doing: running (or paused, when its metadata says so), done, failed or cancelled.
 * @param {any} op
 */
export function stateOf(op) {
  if (!op.done) {
    const m = op.metadata || {};
    const said = String(m.state ?? m.status ?? "");
    return /PAUSE/i.test(said) ? "paused" : "running";
  }
  if (op.error) return op.error.code === 1 ? "cancelled" : "failed";
  return "done";
}

/** The progress in percent the metadata reports, if it reports one. @param {any} op @returns {number | undefined} */
export function progressOf(op) {
  const m = op.metadata || {};
  for (const key of ["progressPercent", "progressPercentage", "percentComplete", "progress"]) {
    const v = Number(m[key]);
    if (m[key] !== undefined && Number.isFinite(v)) return Math.max(0, Math.min(100, v));
  }
  if (op.done && !op.error) return 100;
  return undefined;
}

/** The method that started it, by its metadata's type (the served methods' types are in the config). @param {any} op */
export function methodOf(op) {
  const type = String((op.metadata || {})["@type"] ?? "").replace(/^.*\//, "");
  if (type === "") return "";
  const methods = config.methods.filter((m) => m.metadataType === type);
  return methods.length === 1 ? methods[0].name : type;
}

/** created, updated, ended: what the metadata says (Google's conventional fields), as ms. @param {any} op */
export function timesOf(op) {
  const m = op.metadata || {};
  const at = (/** @type {unknown} */ v) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined);
  const created = at(m.createTime) ?? at(m.startTime);
  const ended = at(m.endTime);
  const updated = at(m.updateTime) ?? ended;
  return { created, updated, ended };
}

/** @param {number | undefined} ms */
export function formatTime(ms) {
  if (ms === undefined) return "—";
  const d = new Date(ms);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** @param {any} op */
export function durationOf(op) {
  const { created, ended } = timesOf(op);
  if (created === undefined) return "—";
  return formatDuration((ended ?? (op.done ? created : Date.now())) - created);
}

/** A time as the API writes it (RFC 3339), as ms; undefined if absent or unreadable. @param {unknown} v */
export function parseTime(v) {
  return typeof v === "string" && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : undefined;
}

/** @param {number} ms */
export function formatDuration(ms) {
  ms = Math.max(0, Math.round(ms));
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  return min < 60 ? `${min} min ${Math.round(s % 60)} s` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** A progress bar (a native <progress>: no inline style needed), or a dash. @param {any} op */
export function progressCell(op) {
  const p = progressOf(op);
  if (p === undefined) return el("span", { class: "muted" }, "—");
  return el("span", { class: "progress" }, el("progress", { max: "100", value: String(p), "aria-label": `${p}%` }), ` ${p}%`);
}

/** @param {string} state */
export function stateBadge(state) {
  return el("span", { class: `state state-${state}` }, state);
}

/**
 * Asks before an action, in the page (a <dialog>, keyboard accessible), not with window.confirm.
 * @param {string} question @param {string} confirmLabel @returns {Promise<boolean>}
 */
export function confirmStep(question, confirmLabel) {
  return new Promise((resolve) => {
    const yes = el("button", { type: "button", class: "danger" }, confirmLabel);
    const no = el("button", { type: "button" }, "Keep it");
    const dialog = /** @type {HTMLDialogElement} */ (el("dialog", { class: "confirm", "aria-label": "Confirm" }, el("p", {}, question), el("div", { class: "buttons" }, no, yes)));
    const done = (/** @type {boolean} */ answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => done(true));
    no.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}

/**
 * An error of the API, as the page shows it: the message, and the status and reason.
 * @param {unknown} err
 */
export function errorBox(err) {
  const e = /** @type {any} */ (err);
  const what = e && e.status ? `${e.status}: ` : "";
  return el("div", { class: "error", role: "alert" }, `${what}${e && e.message ? e.message : String(err)}`);
}
