// @ts-check
// longrun's REST API, as the dashboard calls it: the same routes, checks and errors as any client's.

/** @type {{uiPath: string, listPath: string, restPrefix: string, parentPattern: string, auth: boolean, live: boolean,
 *   methods: {name: string, metadataType: string}[], controls: {command: string, httpMethod: string, path: string, body: string}[]}} */
export const config = JSON.parse(document.querySelector('meta[name="longrun-config"]')?.getAttribute("content") ?? "{}");

const CREDENTIAL = "longrun.credential";

/** An error answer of the API: google.rpc.Status as Google's JSON envelope carries it. */
export class ApiError extends Error {
  /** @param {number} httpStatus @param {{code?: number, message?: string, status?: string, details?: any[]}} error */
  constructor(httpStatus, error) {
    super(error.message || `HTTP ${httpStatus}`);
    this.httpStatus = httpStatus;
    this.status = error.status ?? "";
    this.details = Array.isArray(error.details) ? error.details : [];
  }
  /** The metadata of the ErrorInfo detail, if any. @returns {Record<string, string>} */
  get info() {
    const info = this.details.find((d) => d && d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
    return (info && info.metadata) || {};
  }
}

/** The credential kept for this tab (sessionStorage: gone when the tab closes; never in a URL). */
export function credential() {
  const kept = sessionStorage.getItem(CREDENTIAL);
  if (kept === null) return undefined;
  try {
    const parsed = JSON.parse(kept);
    return parsed && typeof parsed.value === "string" ? /** @type {{kind: string, value: string}} */ (parsed) : undefined;
  } catch {
    return undefined;
  }
}

/** @param {{kind: string, value: string} | undefined} given */
export function keepCredential(given) {
  if (given === undefined) sessionStorage.removeItem(CREDENTIAL);
  else sessionStorage.setItem(CREDENTIAL, JSON.stringify(given));
}

/** The headers that carry the credential: `x-goog-api-key` or `authorization: Bearer`. @returns {Record<string, string>} */
export function authHeaders() {
  const c = credential();
  if (c === undefined) return {};
  return c.kind === "token" ? { authorization: `Bearer ${c.value}` } : { "x-goog-api-key": c.value };
}

/** Listeners told when the API says the credential is missing or wrong (401). @type {Set<() => void>} */
export const onUnauthenticated = new Set();

/**
 * Calls the API; resolves to the JSON answer, or rejects with an ApiError.
 * @param {string} method @param {string} path @param {unknown} [body]
 */
export async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await res.text();
  let data;
  try {
    data = text === "" ? {} : JSON.parse(text);
  } catch {
    data = { error: { message: text.slice(0, 200) } };
  }
  if (res.status === 401) for (const f of onUnauthenticated) f();
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || {});
  return data;
}

/** `projects/p/operations/x` → `projects/p/operations/x` with each segment percent-encoded. @param {string} name */
export function encodedName(name) {
  return name.split("/").map(encodeURIComponent).join("/");
}

/** The REST path of an operation. @param {string} name */
export function operationPath(name) {
  return `${config.restPrefix}/${encodedName(name)}`;
}

/** The REST path of ListOperations for a parent ("" for names without one). @param {string} parent */
export function listPath(parent) {
  return config.listPath.replace("{parent}", encodedName(parent));
}

/** The path of the dashboard's page of an operation. @param {string} name */
export function pagePath(name) {
  return `${config.uiPath}/operations/${encodedName(name)}`;
}

/** A control's REST path for an operation: its template with `{name…}` replaced. @param {string} template @param {string} name */
export function controlPath(template, name) {
  return template.replace(/\{name(=[^}]*)?\}/, encodedName(name));
}
