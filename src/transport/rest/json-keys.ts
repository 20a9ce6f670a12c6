import type { DescMessage, JsonObject, JsonValue, Registry } from "@bufbuild/protobuf";
import { malformedRequest, type RpcError } from "../../core/errors.js";
import { SPECIAL_JSON } from "./well-known.js";

/**
 * Duplicate keys in a request body, refused as protobuf's JSON parsers refuse them (JSON.parse silently keeps
 * the last one, so a body could mean one thing to a proxy or a log and another to the handler).
 *
 * Two checks, both linear in the body:
 * - `duplicateKey`: the same key twice in one JSON object, at any depth, found by one scan of the text;
 * - `aliasedField`: one field given under both its names (`requestId` and `request_id`), found by walking
 *   the parsed value along the request's message types (a map's or a Struct's keys are data: only message
 *   objects have field names).
 */
export function checkDuplicateKeys(text: string, json: JsonValue, schema: DescMessage | undefined, registry: Registry): void {
  const dup = duplicateKey(text);
  if (dup !== undefined) throw duplicateError(`The key "${dup.key}" appears more than once`, dup.path);
  if (schema !== undefined) {
    const alias = aliasedField(schema, json, "", registry);
    if (alias !== undefined) {
      throw duplicateError(`"${alias.jsonName}" and "${alias.name}" name the same field; give it once`, alias.path);
    }
  }
}

function duplicateError(what: string, path: string): RpcError {
  return malformedRequest(`Invalid JSON payload received. ${what}${path.includes(".") || path.includes("[") ? ` (at "${path}")` : ""}.`, path);
}

interface Frame {
  /** undefined for an array. */
  keys: Set<string> | undefined;
  /** In an object: the key being read next is a key (after "{" or ","). */
  expectKey: boolean;
  /** The last key read (objects) or the element index (arrays), for the path. */
  at: string | number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The first key repeated in one object of `text`, which must be valid JSON (JSON.parse accepted it), with
 * its path (`a.b[2].c`); undefined when there is none. One pass over the text; key sets only per object.
 */
export function duplicateKey(text: string): { key: string; path: string } | undefined {
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      for (;;) {
        if (j >= n) return undefined; // not valid JSON: JSON.parse has refused it already
        const d = text.charCodeAt(j);
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys !== undefined && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        top.at = key;
        if (top.keys.has(key)) return { key, path: pathOf(stack) };
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true, at: "" });
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: undefined, expectKey: false, at: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]!;
      if (top.keys !== undefined) top.expectKey = true;
      else top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}

function pathOf(stack: readonly Frame[]): string {
  let path = "";
  for (const f of stack) {
    if (typeof f.at === "number") path += `[${f.at}]`;
    else path += path === "" ? f.at : `.${f.at}`;
  }
  return path;
}

/** protobuf's default recursion limit. */
const MAX_DEPTH = 100;

interface Alias {
  jsonName: string;
  name: string;
  path: string;
}

function isObject(json: JsonValue | undefined): json is JsonObject {
  return json !== null && typeof json === "object" && !Array.isArray(json);
}

/** A field of a message object given under both its JSON name and its proto name. */
function aliasedField(schema: DescMessage, json: JsonValue, path: string, registry: Registry, depth = 0): Alias | undefined {
  // Deeper than protobuf's recursion limit: fromJson decides what such a body gets.
  if (!isObject(json) || depth > MAX_DEPTH) return undefined;
  if (schema.typeName === "google.protobuf.Any") {
    const url = json["@type"];
    if (typeof url !== "string") return undefined;
    const inner = registry.getMessage(url.slice(url.lastIndexOf("/") + 1));
    if (inner === undefined || SPECIAL_JSON.has(inner.typeName)) return undefined;
    // An Any in an Any is written {"@type": ".../google.protobuf.Any", "value": {"@type": ...}}.
    if (inner.typeName === "google.protobuf.Any") return aliasedField(inner, json["value"] ?? null, `${path}.value`, registry, depth + 1);
    return aliasedField(inner, json, path, registry, depth + 1);
  }
  if (SPECIAL_JSON.has(schema.typeName)) return undefined;
  for (const f of schema.fields) {
    const hasName = Object.hasOwn(json, f.name);
    const key = hasName ? f.name : f.jsonName;
    if (hasName && f.jsonName !== f.name && Object.hasOwn(json, f.jsonName)) {
      return { jsonName: f.jsonName, name: f.name, path: path === "" ? f.jsonName : `${path}.${f.jsonName}` };
    }
    const value = json[key];
    if (value === undefined || value === null) continue;
    const at = path === "" ? key : `${path}.${key}`;
    let found: Alias | undefined;
    if (f.fieldKind === "message") found = aliasedField(f.message, value, at, registry, depth + 1);
    else if (f.fieldKind === "list" && f.listKind === "message" && Array.isArray(value)) {
      for (let i = 0; i < value.length && found === undefined; i++) found = aliasedField(f.message, value[i]!, `${at}[${i}]`, registry, depth + 1);
    } else if (f.fieldKind === "map" && f.mapKind === "message" && isObject(value)) {
      for (const k of Object.keys(value)) {
        found = aliasedField(f.message, value[k]!, `${at}.${k}`, registry, depth + 1);
        if (found !== undefined) break;
      }
    }
    if (found !== undefined) return found;
  }
  return undefined;
}
