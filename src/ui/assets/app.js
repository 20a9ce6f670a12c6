// @ts-check
// The dashboard's entry: which page the URL names, and the credential when the server asks for one.
import { config, credential, keepCredential, onUnauthenticated } from "./api.js";
import { detailPage } from "./detail.js";
import { el } from "./view.js";
import { listPage } from "./list.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
/** Stops the page shown (its live stream). @type {() => void} */
let stop = () => {};

function route() {
  stop();
  stop = () => {};
  if (config.auth && credential() === undefined) {
    askCredential("This server checks credentials: give an API key or a token (kept in this tab only).");
    return;
  }
  const prefix = `${config.uiPath}/operations/`;
  const path = location.pathname;
  if (path.startsWith(prefix)) {
    let name;
    try {
      name = path.slice(prefix.length).split("/").map(decodeURIComponent).join("/");
    } catch {
      name = path.slice(prefix.length);
    }
    stop = detailPage(main, name);
  } else {
    stop = listPage(main);
  }
}

/** A form for the credential; it goes to sessionStorage, never into a URL. @param {string} why */
function askCredential(why) {
  const value = /** @type {HTMLInputElement} */ (el("input", { type: "password", id: "credential", autocomplete: "off", required: true, "aria-label": "API key or token" }));
  const kind = /** @type {HTMLSelectElement} */ (el("select", { id: "credential-kind", "aria-label": "Kind" },
    el("option", { value: "apiKey" }, "API key (x-goog-api-key)"), el("option", { value: "token" }, "Token (authorization: Bearer)")));
  const form = el("form", { class: "credential", method: "post" }, el("p", {}, why), kind, value, el("button", { type: "submit" }, "Use it"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    keepCredential({ kind: kind.value, value: value.value });
    route();
  });
  main.replaceChildren(el("h1", {}, "Sign in"), form);
  value.focus();
}

onUnauthenticated.add(() => {
  if (!config.auth) return;
  stop();
  stop = () => {};
  keepCredential(undefined);
  askCredential("The server did not accept the credential (401): give another.");
});

// Links inside the dashboard change the page without reloading it.
document.addEventListener("click", (e) => {
  const a = e.target instanceof Element ? e.target.closest("a") : null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(config.uiPath)) return;
  e.preventDefault();
  history.pushState({ stack: [] }, "", url);
  route();
});
addEventListener("popstate", route);
route();
