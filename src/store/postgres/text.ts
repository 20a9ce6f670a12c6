/**
 * PostgreSQL `text` cannot hold NUL, and `jsonb` refuses the escapes `\u0000` and lone UTF-16 surrogates
 * (`\ud800`), all of which a JavaScript string (and so JSON.stringify) can carry. The filterable copies
 * (`error_message`, `metadata_json`) replace such characters with U+FFFD rather than fail the write; the
 * serialized columns served back to clients are bytes and keep everything as it was.
 */

/** NUL, or a UTF-16 surrogate without its other half (matched by code unit: no `u` flag). */
const UNSTORABLE_SOURCE = "\\u0000|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]";
const UNSTORABLE = new RegExp(UNSTORABLE_SOURCE);
const UNSTORABLE_ALL = new RegExp(UNSTORABLE_SOURCE, "g");

/** `text` as PostgreSQL can store it. */
export function pgText(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, "\uFFFD") : text;
}

/** JSON text as `jsonb` accepts it; null for none. */
export function jsonbText(json: string | undefined): string | null {
  if (json === undefined) return null;
  // JSON.stringify escapes NUL as \u0000 and lone surrogates as \udXXX (paired ones are written as they
  // are), so the common case is one regular-expression test.
  if (!/\\u(?:0000|d[89a-f])/i.test(json)) return json;
  return JSON.stringify(clean(JSON.parse(json)));
}

function clean(value: unknown): unknown {
  if (typeof value === "string") return pgText(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [pgText(k), clean(v)]));
  }
  return value;
}

/**
 * JSON texts (undefined for none) as one JSON array parameter, for a batch's filterable JSON column:
 * joined, where a text[] parameter would have node-postgres escape every quote of every document in
 * JavaScript (about 4% of a drain worker's CPU) and the server unescape them again.
 */
export function jsonArrayParameter(texts: readonly (string | undefined)[]): string {
  return `[${texts.map((text) => jsonbText(text) ?? "null").join(",")}]`;
}

/** SQL for element `ordinality` (1-based) of a jsonArrayParameter, as jsonb; NULL where it is null. */
export function jsonArrayElement(parameter: string, ordinality: string): string {
  return `NULLIF((${parameter}::jsonb) -> (${ordinality}::integer - 1), 'null'::jsonb)`;
}
