import { toJson, type DescField, type DescMessage, type DescMethod, type JsonObject, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../gen/google/api/http_pb.js";
import { parsePathTemplate, type PathTemplate, type TemplateSegment } from "../transport/rest/path-template.js";
import { resolveFieldPath } from "../transport/rest/fields.js";
import { OperationNames } from "../core/names.js";

/** A REST binding of one RPC: `{ method: "POST", path: "/v1/{name=operations/**}:cancel", body: "*" }`. */
export interface RestBinding {
  /** The HTTP method: GET, POST, PUT, PATCH, DELETE (or a custom one). */
  readonly method: string;
  /** A google.api.http path template. */
  readonly path: string;
  /** `"*"`: the request (less path fields) is the body; a field name: that field is; absent: no body. */
  readonly body?: string;
}

/** How a server names its operations, which decides its REST paths. */
export interface OperationNaming {
  /** The version prefix. @default "/v1" */
  prefix?: string;
  /** The collection id. @default "operations" */
  collection?: string;
  /** A parent pattern for parent-scoped names, as `longrun serve --parent-pattern` takes it. @default none */
  parent?: string;
}

/**
 * The bindings of google.longrunning.Operations a longrun server serves for its names (Wait's is the one
 * Cloud services use): `GET /v1/{name=operations/**}`, `GET /v1/{name=operations}`, …; with a parent
 * pattern P, `GET /v1/{name=P/operations/*}` and `GET /v1/{name=P}/operations` (as src/service/endpoints.ts).
 */
export function operationsBindings(naming: OperationNaming = {}): Record<string, RestBinding> {
  const { operation: one, list } = new OperationNames({ collection: naming.collection, parent: naming.parent }).restTemplates(naming.prefix);
  return {
    "google.longrunning.Operations.ListOperations": { method: "GET", path: list },
    "google.longrunning.Operations.GetOperation": { method: "GET", path: one },
    "google.longrunning.Operations.DeleteOperation": { method: "DELETE", path: one },
    "google.longrunning.Operations.CancelOperation": { method: "POST", path: `${one}:cancel`, body: "*" },
    "google.longrunning.Operations.WaitOperation": { method: "POST", path: `${one}:wait`, body: "*" },
  };
}

/** The method's `google.api.http` annotation as a RestBinding, if it has one. */
export function annotatedBinding(method: DescMethod): RestBinding | undefined {
  if (!hasOption(method, http)) return undefined;
  return bindingOfRule(getOption(method, http));
}

export function bindingOfRule(rule: HttpRule): RestBinding | undefined {
  const { pattern } = rule;
  const body = rule.body === "" ? undefined : rule.body;
  switch (pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { method: pattern.case.toUpperCase(), path: pattern.value, body };
    case "custom":
      return { method: pattern.value.kind.toUpperCase(), path: pattern.value.path, body };
    default:
      return undefined;
  }
}

export interface HttpRequestParts {
  method: string;
  /** The path with its variables expanded, then `?query` if any. */
  pathAndQuery: string;
  /** JSON text, or undefined for no body. */
  body: string | undefined;
}

/** Thrown when a request does not fit its binding (a name outside the pattern, a repeated message in a query). */
export class BindingMismatchError extends Error {
  override name = "BindingMismatchError";
}

const templates = new Map<string, PathTemplate>();

/**
 * Transcodes a request for a binding, the client half of google/api/http.proto: path variables from the
 * request's fields (percent-encoded: a multi-segment variable keeps its `/`), the body per `body`, every
 * other set field as a query parameter (lowerCamelCase, `a.b=` for nested fields, repeated for lists).
 */
export function transcodeRequest(binding: RestBinding, schema: DescMessage, request: Message, registry: Registry): HttpRequestParts {
  let template = templates.get(binding.path);
  if (template === undefined) {
    template = parsePathTemplate(binding.path);
    templates.set(binding.path, template);
  }
  const json = toJson(schema, request, { registry }) as JsonObject;
  const values: string[] = [];
  for (const variable of template.variables) {
    const fields = resolveFieldPath(schema, variable.fieldPath);
    if (typeof fields === "string") throw new BindingMismatchError(`${binding.path}: ${fields}`);
    const value = takeJsonPath(json, fields);
    const text = value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    const pattern = template.segments.slice(variable.start, variable.end);
    if (!matches(pattern, text)) {
      throw new BindingMismatchError(
        `${variable.fieldPath.join(".")} "${text}" does not match the REST binding ${binding.method} ${binding.path}`,
      );
    }
    values.push(text);
  }
  let path = "";
  for (let i = 0; i < template.segments.length; ) {
    const variableIndex = template.variables.findIndex((v) => v.start === i);
    if (variableIndex !== -1) {
      const variable = template.variables[variableIndex]!;
      path += "/" + percentEncode(values[variableIndex]!, variable.multiSegment);
      i = variable.end;
      continue;
    }
    const segment = template.segments[i]!;
    if (segment.kind !== "literal") throw new BindingMismatchError(`${binding.path}: a wildcard outside a variable cannot be expanded`);
    path += "/" + segment.value;
    i++;
  }
  if (template.verb !== undefined) path += ":" + template.verb;

  let body: string | undefined;
  if (binding.body === "*") {
    body = JSON.stringify(json);
    for (const key of Object.keys(json)) delete json[key];
  } else if (binding.body !== undefined) {
    const field = schema.fields.find((f) => f.name === binding.body || f.jsonName === binding.body);
    if (field === undefined) throw new BindingMismatchError(`${binding.path}: body "${binding.body}" is not a field of ${schema.typeName}`);
    const value = json[field.jsonName];
    delete json[field.jsonName];
    body = value === undefined ? undefined : JSON.stringify(value);
  }
  const query = new URLSearchParams();
  addQuery(query, "", json);
  const queryText = query.toString();
  return { method: binding.method, pathAndQuery: queryText === "" ? path : `${path}?${queryText}`, body };
}

/** Reads (and removes, so it is not sent again) the JSON value at a field path. */
function takeJsonPath(json: JsonObject, fields: readonly DescField[]): JsonValue | undefined {
  let node: JsonValue | undefined = json;
  for (let i = 0; i < fields.length; i++) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    const key = fields[i]!.jsonName;
    const value: JsonValue | undefined = (node as JsonObject)[key];
    if (i === fields.length - 1) {
      delete (node as JsonObject)[key];
      return value;
    }
    node = value;
  }
  return undefined;
}

function addQuery(query: URLSearchParams, prefix: string, value: JsonValue): void {
  if (value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === "object") throw new BindingMismatchError(`${prefix}: a list of messages cannot be a query parameter`);
      query.append(prefix, String(item));
    }
    return;
  }
  if (typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) addQuery(query, prefix === "" ? key : `${prefix}.${key}`, inner);
    return;
  }
  query.append(prefix, String(value));
}

function matches(pattern: readonly TemplateSegment[], value: string): boolean {
  const parts = value.split("/");
  let i = 0;
  for (const [k, segment] of pattern.entries()) {
    if (segment.kind === "multi") {
      // Literals may follow `**` (see path-template.ts): they match the value's last parts.
      const tail = pattern.slice(k + 1);
      if (parts.length - i < tail.length) return false;
      const rest = parts.slice(parts.length - tail.length);
      return tail.every((t, j) => t.kind === "literal" && rest[j] === t.value);
    }
    const part = parts[i++];
    if (part === undefined || part === "") return false;
    if (segment.kind === "literal" && part !== segment.value) return false;
  }
  return i === parts.length;
}

/** RFC 3986 percent-encoding of all but `[-_.~0-9a-zA-Z]` (and `/` when `keepSlash`), as http.proto asks of clients. */
export function percentEncode(value: string, keepSlash: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    if (/[-_.~0-9a-zA-Z]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
