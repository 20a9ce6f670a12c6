import {
  create,
  fromJson,
  mergeFromJson,
  type DescField,
  type DescMessage,
  type DescMethod,
  type JsonObject,
  type JsonValue,
  type Message,
  type Registry,
  ScalarType,
} from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { malformedRequest, type RpcError } from "../../core/errors.js";
import { canonicalPath, fieldByName, resolveFieldPath } from "../../http/fields.js";
import type { PathTemplate } from "../../http/path-template.js";
import type { QueryParam } from "./query.js";
import { checkDuplicateKeys } from "./json-keys.js";
import { STRING_JSON_MESSAGES, WRAPPERS } from "./well-known.js";

/**
 * HTTP request → request message, per google/api/http.proto:
 * 1. the body: `body: "*"` → the whole request; `body: "field"` → that top-level field; none → no body;
 * 2. the path variables (nested field paths allowed); a body value that differs → 400;
 * 3. the query parameters, for fields bound by neither path nor body (never with `body: "*"`).
 *
 * Everything about a rule that can be checked without a request is checked by compileBinding, which
 * throws at route-build time.
 */
export interface RequestBinding {
  readonly input: DescMessage;
  readonly output: DescMessage;
  /** `"none"`: no body; `"all"`: `body: "*"`; else the top-level field the body is. */
  readonly body: "none" | "all" | DescField;
  /** The fields of each template variable, in template order. */
  readonly pathFields: readonly (readonly DescField[])[];
  /** Canonical (proto-name) paths bound by the URL path. */
  readonly pathKeys: readonly string[];
  /** `response_body`: the response field written as the body, if the rule names one. */
  readonly responseField: DescField | undefined;
}

export function compileBinding(method: DescMethod, rule: HttpRule, template: PathTemplate): RequestBinding {
  const where = `${method.parent.typeName}.${method.name} "${template.source}"`;
  const input = method.input;
  const pathFields: DescField[][] = [];
  const pathKeys: string[] = [];
  for (const v of template.variables) {
    const resolved = resolveFieldPath(input, v.fieldPath);
    if (typeof resolved === "string") throw new Error(`${where}: path variable: ${resolved}`);
    const leaf = resolved[resolved.length - 1]!;
    if (leaf.fieldKind !== "scalar" && leaf.fieldKind !== "enum") {
      throw new Error(`${where}: path variable "${v.fieldPath.join(".")}" must be a singular scalar or enum field`);
    }
    pathFields.push(resolved);
    pathKeys.push(canonicalPath(resolved));
  }
  let body: RequestBinding["body"];
  if (rule.body === "") body = "none";
  else if (rule.body === "*") body = "all";
  else {
    const f = rule.body.includes(".") ? undefined : fieldByName(input, rule.body);
    if (f === undefined) throw new Error(`${where}: body "${rule.body}" is not a top-level field of ${input.typeName}`);
    if (pathKeys.includes(f.name)) throw new Error(`${where}: body field "${rule.body}" is also a path variable`);
    body = f;
  }
  let responseField: DescField | undefined;
  if (rule.responseBody !== "") {
    responseField = rule.responseBody.includes(".") ? undefined : fieldByName(method.output, rule.responseBody);
    if (responseField === undefined) {
      throw new Error(`${where}: response_body "${rule.responseBody}" is not a top-level field of ${method.output.typeName}`);
    }
  }
  return { input, output: method.output, body, pathFields, pathKeys, responseField };
}

// ---------------------------------------------------------------------------------------------------------

export function buildRequest(
  binding: RequestBinding,
  pathValues: readonly string[],
  params: readonly QueryParam[],
  bodyText: string,
  registry: Registry,
): Message {
  const message = readBody(binding, bodyText, registry);
  for (let i = 0; i < pathValues.length; i++) {
    setPathValue(binding, message, binding.pathFields[i]!, pathValues[i]!, registry);
  }
  if (params.length > 0) mergeQuery(binding, message, params, registry);
  return message;
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

function readBody(binding: RequestBinding, text: string, registry: Registry): Message {
  const { input } = binding;
  if (text === "" || isBlank(text)) return create(input);
  if (binding.body === "none") {
    // Lenient about a client that sends an empty object where no body belongs.
    if (text.trim() === "{}") return create(input);
    throw malformedRequest("This method does not take a request body.");
  }
  const json = parseJsonText(text);
  if (binding.body === "all") checkDuplicateKeys(text, json, input, registry);
  else checkDuplicateKeys(text, { [binding.body.jsonName]: json }, input, registry);
  try {
    if (binding.body === "all") return fromJson(input, json, { registry });
    return fromJson(input, { [binding.body.name]: json }, { registry });
  } catch (e) {
    throw malformedRequest(decodeFailure(e));
  }
}

export function parseJsonText(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    throw malformedRequest(`Invalid JSON payload received. ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeFailure(e: unknown): string {
  return `Invalid JSON payload received. ${e instanceof Error ? e.message : String(e)}`;
}

/** Sets one path variable, walking (and creating) the message fields of a nested path. */
function setPathValue(
  binding: RequestBinding,
  message: Message,
  fields: readonly DescField[],
  raw: string,
  registry: Registry,
): void {
  const last = fields.length - 1;
  const leaf0 = fields[0]!;
  if (last === 0 && leaf0.fieldKind === "scalar" && leaf0.scalar === ScalarType.STRING && leaf0.oneof === undefined) {
    // The common case (`name`), without reflection.
    const m = message as unknown as Record<string, string>;
    const current = m[leaf0.localName];
    if (current !== "" && current !== undefined && current !== raw) throw pathConflict(fields);
    m[leaf0.localName] = raw;
    return;
  }
  let r: ReflectMessage = reflect(binding.input, message);
  for (let i = 0; i < last; i++) {
    const f = fields[i]!;
    if (f.fieldKind !== "message") throw new Error("unreachable: intermediate path field is not a message");
    if (!r.isSet(f)) r.set(f, reflect(f.message, create(f.message)));
    r = r.get(f);
  }
  const leaf = fields[last]!;
  const value = leaf.fieldKind === "scalar" && leaf.scalar === ScalarType.STRING ? raw : typedValue(leaf, raw, registry);
  if (r.isSet(leaf) && !sameValue(r.get(leaf), value)) throw pathConflict(fields);
  r.set(leaf, value);
}

function pathConflict(fields: readonly DescField[]): RpcError {
  const path = fields.map((f) => f.jsonName).join(".");
  return malformedRequest(`The value of "${path}" in the request body differs from the one in the URL path.`, path);
}

/** A path value converted to the leaf field's type, by way of the proto3 JSON reader. */
function typedValue(leaf: DescField, raw: string, registry: Registry): unknown {
  const parent = leaf.parent;
  let tmp: Message;
  try {
    tmp = fromJson(parent, { [leaf.name]: queryJson(leaf, raw) ?? null }, { registry });
  } catch (e) {
    throw malformedRequest(`Invalid value "${raw}" in the URL path for field "${leaf.jsonName}": ${e instanceof Error ? e.message : String(e)}`, leaf.jsonName);
  }
  return reflect(parent, tmp).get(leaf);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return false;
}

// ---- Query parameters ----

/**
 * A query (or path) string as the proto3 JSON value of a field's element type: the reader then does the
 * type conversion (int32/64, float, bytes base64, enums by name, Duration, Timestamp, FieldMask...).
 * Returns undefined for a message type that has no string form.
 */
function queryJson(field: DescField, value: string): JsonValue | undefined {
  let kind: "scalar" | "enum" | "message";
  let scalar: ScalarType | undefined;
  let message: DescMessage | undefined;
  switch (field.fieldKind) {
    case "scalar":
      kind = "scalar";
      scalar = field.scalar;
      break;
    case "enum":
      kind = "enum";
      break;
    case "message":
      kind = "message";
      message = field.message;
      break;
    case "list":
      kind = field.listKind;
      if (field.listKind === "scalar") scalar = field.scalar;
      else if (field.listKind === "message") message = field.message;
      break;
    case "map":
      return undefined;
  }
  if (kind === "message") {
    const name = message!.typeName;
    if (STRING_JSON_MESSAGES.has(name)) return value;
    if (WRAPPERS.has(name)) return queryJson(message!.fields[0]!, value);
    return undefined;
  }
  if (kind === "enum") return /^-?\d+$/.test(value) ? Number(value) : value;
  if (scalar === ScalarType.BOOL) {
    if (value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
    return value; // rejected by the reader
  }
  return value;
}

function mergeQuery(binding: RequestBinding, message: Message, params: readonly QueryParam[], registry: Registry): void {
  if (binding.body === "all") {
    const p = params[0]!;
    throw malformedRequest(
      `Cannot bind query parameter "${p.name}": this method takes every request field from the request body.`,
      p.name,
    );
  }
  const tree: JsonObject = {};
  const assigned = new Set<string>();
  for (const { name, value } of params) {
    const fields = resolveFieldPath(binding.input, name.split("."));
    if (typeof fields === "string") {
      throw malformedRequest(`Cannot bind query parameter "${name}": ${fields}.`, name);
    }
    const key = canonicalPath(fields);
    if (binding.body !== "none" && fields[0] === binding.body) {
      throw malformedRequest(`Cannot bind query parameter "${name}": the field is bound to the request body.`, name);
    }
    for (const p of binding.pathKeys) {
      if (key === p || p.startsWith(key + ".") || key.startsWith(p + ".")) {
        throw malformedRequest(`Cannot bind query parameter "${name}": the field is bound by the URL path.`, name);
      }
    }
    const leaf = fields[fields.length - 1]!;
    const json = queryJson(leaf, value);
    if (json === undefined) {
      throw malformedRequest(
        `Cannot bind query parameter "${name}": ${leaf.fieldKind === "map" ? "map" : "message"} fields cannot be set from the query string; set their fields ("${name}.field=...") instead.`,
        name,
      );
    }
    let node = tree;
    for (let i = 0; i < fields.length - 1; i++) {
      const k = fields[i]!.name;
      let child = node[k];
      if (child === undefined) {
        child = {};
        node[k] = child;
      }
      node = child as JsonObject;
    }
    if (leaf.fieldKind === "list") {
      const list = (node[leaf.name] ??= []) as JsonValue[];
      list.push(json);
    } else {
      if (assigned.has(key)) {
        throw malformedRequest(`Cannot bind query parameter "${name}": more than one value for a non-repeated field.`, name);
      }
      assigned.add(key);
      node[leaf.name] = json;
    }
  }
  try {
    mergeFromJson(binding.input, message, tree, { registry });
  } catch (e) {
    // Find the parameter at fault, to name it.
    for (const { name, value } of params) {
      const fields = resolveFieldPath(binding.input, name.split(".")) as DescField[];
      const leaf = fields[fields.length - 1]!;
      const json = queryJson(leaf, value);
      try {
        fromJson(leaf.parent, { [leaf.name]: leaf.fieldKind === "list" ? [json ?? null] : (json ?? null) }, { registry });
      } catch (inner) {
        throw malformedRequest(
          `Invalid value for query parameter "${name}": "${value}" (${inner instanceof Error ? inner.message : String(inner)}).`,
          name,
        );
      }
    }
    throw malformedRequest(`Invalid query parameters: ${e instanceof Error ? e.message : String(e)}`);
  }
}
