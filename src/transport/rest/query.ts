import type { DescMessage } from "@bufbuild/protobuf";
import { malformedRequest, type RpcError } from "../../core/errors.js";
import { fieldByName } from "../../http/fields.js";
import type { ResponseFormat } from "./json.js";

/**
 * The query string: Google system parameters, and everything else as request field parameters.
 *
 * System parameters (https://cloud.google.com/apis/docs/system-parameters):
 * - `$alt` / `alt`: `json` or `json;enum-encoding=int` (the `;` usually arrives as `%3B`); the latter writes
 *   enums as numbers. Anything else is 400.
 * - `$prettyPrint` / `prettyPrint`: `true`/`false`/`1`/`0`; pretty-printed is the default.
 * - `$fields` / `fields`: accepted and ignored: the full response is always returned.
 * - `key` / `$key`: an API key, and `access_token` / `$access_token`: an OAuth bearer token. Always system
 *   parameters, even when the request has a field of that name: a secret is never bound into a request
 *   (where it could be stored or echoed). They become the call's credentials when no header carries one;
 *   checking them is the auth unit's job. Given twice: 400, so the credential used is never a guess.
 * - any other `$name`: 400.
 * The other bare names (`alt`, `fields`, ...) are request fields instead when the request message has such a
 * field. No error here repeats a parameter's value.
 */
export interface QueryParam {
  readonly name: string;
  readonly value: string;
}

export interface ParsedQuery {
  readonly format: ResponseFormat;
  readonly params: readonly QueryParam[];
  /** `key=`: an API key. */
  readonly apiKey: string | undefined;
  /** `access_token=`: an OAuth 2.0 bearer token (RFC 6750 §2.3). */
  readonly accessToken: string | undefined;
}

const NO_PARAMS: readonly QueryParam[] = [];
const BARE_SYSTEM = new Set(["alt", "prettyPrint", "fields"]);
const CREDENTIALS = new Set(["key", "access_token"]);

export function parseQuery(raw: string, request: DescMessage, base: ResponseFormat): ParsedQuery {
  if (raw === "") return { format: base, params: NO_PARAMS, apiKey: undefined, accessToken: undefined };
  let enumAsInteger = base.enumAsInteger;
  let pretty = base.pretty;
  let apiKey: string | undefined;
  let accessToken: string | undefined;
  const params: QueryParam[] = [];
  for (const [name, value] of new URLSearchParams(raw)) {
    let system: string | undefined;
    if (name.charCodeAt(0) === 36 /* $ */) {
      system = name.slice(1);
    } else if (CREDENTIALS.has(name) || (BARE_SYSTEM.has(name) && fieldByName(request, name) === undefined)) {
      system = name;
    }
    if (system === undefined) {
      if (name === "") {
        throw malformedRequest(`Cannot bind query parameter with an empty name.`);
      }
      params.push({ name, value });
      continue;
    }
    switch (system) {
      case "alt":
        if (value === "json") enumAsInteger = false;
        else if (value === "json;enum-encoding=int") enumAsInteger = true;
        else throw malformedRequest(`Invalid value for system parameter "${name}": "${value}" (supported: "json", "json;enum-encoding=int").`, name);
        break;
      case "prettyPrint":
        if (value === "true" || value === "1") pretty = true;
        else if (value === "false" || value === "0") pretty = false;
        else throw malformedRequest(`Invalid value for system parameter "${name}": "${value}" (expected true, false, 1 or 0).`, name);
        break;
      case "fields": // partial responses are not implemented; the full response is returned
        break;
      case "key":
        if (apiKey !== undefined) throw givenTwice("API key", name);
        apiKey = value;
        break;
      case "access_token":
        if (accessToken !== undefined) throw givenTwice("access token", name);
        accessToken = value;
        break;
      default:
        throw malformedRequest(`Unknown system parameter "${name}".`, name);
    }
  }
  return { format: { enumAsInteger, pretty }, params, apiKey, accessToken };
}

function givenTwice(what: string, name: string): RpcError {
  return malformedRequest(`The ${what} is given more than once in the query.`, name);
}
