import type { DescMessage } from "@bufbuild/protobuf";
import { malformedRequest } from "../../core/errors.js";
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
 * - `key`, `access_token`: accepted and ignored (authentication is not the transport's job).
 * - any other `$name`: 400.
 * The bare names (`alt`, `fields`, ...) are request fields instead when the request message has such a field.
 */
export interface QueryParam {
  readonly name: string;
  readonly value: string;
}

export interface ParsedQuery {
  readonly format: ResponseFormat;
  readonly params: readonly QueryParam[];
}

const NO_PARAMS: readonly QueryParam[] = [];
const BARE_SYSTEM = new Set(["alt", "prettyPrint", "fields", "key", "access_token"]);

export function parseQuery(raw: string, request: DescMessage, base: ResponseFormat): ParsedQuery {
  if (raw === "") return { format: base, params: NO_PARAMS };
  let enumAsInteger = base.enumAsInteger;
  let pretty = base.pretty;
  const params: QueryParam[] = [];
  for (const [name, value] of new URLSearchParams(raw)) {
    let system: string | undefined;
    if (name.charCodeAt(0) === 36 /* $ */) {
      system = name.slice(1);
    } else if (BARE_SYSTEM.has(name) && fieldByName(request, name) === undefined) {
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
      case "key":
      case "access_token":
        break;
      default:
        throw malformedRequest(`Unknown system parameter "${name}".`, name);
    }
  }
  return { format: { enumAsInteger, pretty }, params };
}
