import { toJson, type DescField, type DescMessage, type DescMethod, type JsonObject, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import { DEFAULTS } from "../core/defaults.js";
import { OperationNames } from "../core/names.js";
import { resolveFieldPath } from "../http/fields.js";
import { expandPath, valueFits } from "../http/path-match.js";
import { parsePathTemplate, type PathTemplate } from "../http/path-template.js";
import { bindingOfRule, operationsRestBindings, retryOperationRestBinding, type RestBinding } from "../http/rule.js";

/** How a server names its operations, which decides its REST paths. */
export interface OperationNaming {
  /** The version prefix. @default DEFAULTS.restPrefix ("/v1") */
  prefix?: string;
  /** The collection id. @default DEFAULTS.collection ("operations") */
  collection?: string;
  /** A parent pattern for parent-scoped names, as `longrun serve --parent-pattern` takes it. @default none */
  parent?: string;
}

/**
 * The bindings of google.longrunning.Operations a longrun server serves for its names (Wait's is the one
 * Cloud services use): `GET /v1/{name=operations/**}`, `GET /v1/{name=operations}`, …; with a parent
 * pattern P, `GET /v1/{name=P/operations/*}` and `GET /v1/{name=P}/operations` (the server's, from the same table).
 */
export function operationsBindings(naming: OperationNaming = {}): Record<string, RestBinding> {
  const names = new OperationNames({ collection: naming.collection ?? DEFAULTS.collection.value, parent: naming.parent });
  const bindings = operationsRestBindings(names.restTemplates(naming.prefix ?? DEFAULTS.restPrefix.value));
  const byFullName: Record<string, RestBinding> = {};
  for (const [rpc, binding] of Object.entries(bindings)) byFullName[`google.longrunning.Operations.${rpc}`] = binding;
  // The admin method on an operation the client calls by name (LongrunClient.retry), at the server's path.
  byFullName["longrun.admin.v1.OperationActivity.RetryOperation"] = retryOperationRestBinding(names.restTemplates(naming.prefix ?? DEFAULTS.restPrefix.value));
  return byFullName;
}

/** The method's `google.api.http` annotation as a RestBinding, if it has one. */
export function annotatedBinding(method: DescMethod): RestBinding | undefined {
  if (!hasOption(method, http)) return undefined;
  return bindingOfRule(getOption(method, http));
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
    if (!valueFits(template, variable, text)) {
      throw new BindingMismatchError(
        `${variable.fieldPath.join(".")} "${text}" does not match the REST binding ${binding.method} ${binding.path}`,
      );
    }
    values.push(text);
  }
  const path = expandPath(template, values);
  if (path === undefined) throw new BindingMismatchError(`${binding.path}: a wildcard outside a variable cannot be expanded`);

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
