// @ts-check
// An operation's page: GetOperation, its metadata and its result as JSON, and the actions on it.
import { ApiError, call, config, controlPath, listPath, operationPath } from "./api.js";
import { confirmStep, durationOf, el, errorBox, formatTime, methodOf, progressCell, stateBadge, stateOf, timesOf } from "./view.js";
import { watch } from "./live.js";

/** @param {HTMLElement} main @param {string} name @returns {() => void} */
export function detailPage(main, name) {
  document.title = `${name} · longrun`;
  const back = el("a", { href: `${config.uiPath}/`, class: "back" }, "← Operations");
  const summary = el("dl", { class: "summary" });
  const actions = el("div", { class: "actions" });
  const notice = el("div", { id: "notice" });
  const sections = el("div", { class: "json" });
  main.replaceChildren(back, el("h1", { class: "name" }, name), notice, summary, actions, sections);
  let gone = false;

  /** @param {string} label @param {string} verb @param {() => Promise<unknown>} act @param {string} [danger] */
  const action = (label, verb, act, danger) => {
    const button = el("button", { type: "button", class: danger ? "danger" : undefined, "data-action": verb }, label);
    button.addEventListener("click", async () => {
      if (!(await confirmStep(`${label} ${name}?`, label))) return;
      try {
        await act();
        notice.replaceChildren(el("div", { class: "ok", role: "status" }, `${label}: done.`));
      } catch (err) {
        notice.replaceChildren(errorBox(err));
      }
      if (!gone) void load();
    });
    return button;
  };

  const show = (/** @type {any} */ op) => {
    const state = stateOf(op);
    const { created, updated, ended } = timesOf(op);
    const pairs = [["state", stateBadge(state)], ["method", methodOf(op) || "—"], ["progress", progressCell(op)],
      ["created", formatTime(created)], ["updated", formatTime(updated)], ["ended", formatTime(ended)], ["duration", durationOf(op)]];
    summary.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { "data-field": /** @type {string} */ (k) }, v)]));
    const buttons = [];
    if (!op.done) {
      for (const c of config.controls) {
        buttons.push(action(c.command[0].toUpperCase() + c.command.slice(1), c.command, () => call(c.httpMethod, controlPath(c.path, name), c.body === "" ? undefined : {})));
      }
      buttons.push(action("Cancel", "cancel", () => call("POST", `${operationPath(name)}:cancel`, {}), "danger"));
    }
    buttons.push(action("Delete", "delete", async () => {
      await call("DELETE", operationPath(name));
      gone = true;
      location.assign(`${config.uiPath}/`);
    }, "danger"));
    actions.replaceChildren(...buttons);
    const json = (/** @type {string} */ title, /** @type {unknown} */ value) =>
      el("section", {}, el("h2", {}, title), el("pre", { "data-json": title }, JSON.stringify(value, null, 2)));
    sections.replaceChildren(json("metadata", op.metadata ?? null));
    if (op.error) sections.append(json("error", op.error));
    if (op.response) sections.append(json("response", op.response));
  };

  const load = async () => {
    try {
      show(await call("GET", operationPath(name)));
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 404) gone = true;
      notice.replaceChildren(errorBox(err));
    }
  };

  const slash = name.lastIndexOf("/", name.lastIndexOf("/") - 1);
  const stop = watch(listPath(config.parentPattern === "" ? "" : name.slice(0, slash)), (changes) => {
    if (changes.deleted.includes(name)) {
      gone = true;
      notice.replaceChildren(el("div", { class: "error", role: "alert" }, "This operation was deleted."));
    } else if (changes.resync || changes.changed.includes(name)) {
      if (!gone) void load();
    }
  });
  void load();
  return stop;
}
