// @ts-check
// An operation's page: GetOperation and GetOperationDetails (method, who started it, its request, the
// timeline of its attempts), its metadata and its result as JSON, and the actions on it.
import { ApiError, call, config, controlPath, listPath, operationPath, pagePath } from "./api.js";
import { confirmStep, durationOf, el, errorBox, formatDuration, formatTime, methodOf, parseTime, progressCell, stateBadge, stateOf, timesOf } from "./view.js";
import { timeline } from "./timeline.js";
import { watch } from "./live.js";

/** @param {HTMLElement} main @param {string} name @returns {() => void} */
export function detailPage(main, name) {
  document.title = `${name} · longrun`;
  const back = el("a", { href: `${config.uiPath}/`, class: "back" }, "← Operations");
  const summary = el("dl", { class: "summary" });
  const actions = el("div", { class: "actions" });
  const notice = el("div", { id: "notice" });
  const sections = el("div", { class: "json" });
  const history = el("section", { class: "history" });
  main.replaceChildren(back, el("h1", { class: "name" }, name), notice, summary, actions, history, sections);
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

  /**
   * The operation, and its details when the API gave them (`undefined`: denied, or a server without the
   * call — the page then shows what the Operation itself tells, as before).
   * @param {any} op @param {any} details @param {unknown} detailsError
   */
  const show = (op, details, detailsError) => {
    const state = stateOf(op);
    const inferred = timesOf(op);
    const created = parseTime(details?.createTime) ?? inferred.created;
    const updated = parseTime(details?.updateTime) ?? inferred.updated;
    const ended = parseTime(details?.endTime) ?? inferred.ended;
    // As the list counts it: from creation to the end (or now).
    const duration = details === undefined || created === undefined ? durationOf(op) : formatDuration((ended ?? (op.done ? created : Date.now())) - created);
    const pairs = [["state", stateBadge(state)], ["method", details?.method || methodOf(op) || "—"],
      ["started by", details === undefined ? "—" : details.principal || "—"], ["progress", progressCell(op)],
      ["created", formatTime(created)], ["updated", formatTime(updated)], ["ended", formatTime(ended)], ["duration", duration],
      ["attempts", details === undefined ? "—" : String(Number(details.attempt ?? 0))]];
    // A retry (`longrun retry`) links to the operation it runs again.
    if (details?.retryOf) pairs.push(["retry of", el("a", { href: pagePath(details.retryOf), "data-retry-of": "" }, String(details.retryOf))]);
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
    sections.replaceChildren();
    if (details?.request !== undefined) sections.append(json("request", details.request));
    sections.append(json("metadata", op.metadata ?? null));
    if (op.error) sections.append(json("error", op.error));
    if (op.response) sections.append(json("response", op.response));
    if (details !== undefined) {
      history.replaceChildren(el("h2", {}, "Timeline"), timeline(details, op));
    } else {
      const why = detailsError instanceof ApiError ? `${detailsError.status || `HTTP ${detailsError.httpStatus}`}: ${detailsError.message}` : String(detailsError);
      history.replaceChildren(el("p", { class: "muted", id: "details-unavailable" }, `No timeline: the details were not available (${why}).`));
    }
  };

  const load = async () => {
    // Both at once; the page stands on GetOperation alone if the details are refused.
    const [op, details] = await Promise.allSettled([call("GET", operationPath(name)), call("GET", `${operationPath(name)}:details`)]);
    if (op.status === "fulfilled") {
      show(op.value, details.status === "fulfilled" ? details.value : undefined, details.status === "rejected" ? details.reason : undefined);
    } else {
      const err = op.reason;
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
