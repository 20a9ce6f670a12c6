/**
 * Storage Transfer's ListOperations filter (transferOperations.list): a JSON object instead of AIP-160,
 * compiled to the same typed FilterExpr, so both stores and longrun's evaluator run it unchanged. A filter
 * dialect written only against longrun's public API, as a user's own would be; the example's profile
 * (profile.ts) registers it as "storage-transfer-json".
 *
 *   {"projectId": "p", "jobNames": ["transferJobs/1"], "jobNamePattern": "transferJobs/*",
 *    "operationNames": ["transferOperations/a"], "operationNamePattern": "transferOperations/*",
 *    "minCreationTime": "2024-01-01T00:00:00Z", "maxCreationTime": "…", "transferStatuses": ["in_progress"]}
 *
 * projectId is the only required key; keys are ANDed, array elements ORed. Patterns must match the whole
 * name, `*` standing for any run of characters; of those, the forms FilterExpr can express are accepted
 * (no `*`, `abc*`, `*abc`, `*abc*`, `*`) and others (a `*` inside) refused. Statuses are case-insensitive.
 * projectId, jobNames/jobNamePattern and transferStatuses restrict metadata fields (configurable names),
 * checked against the schema as AIP-160 paths are.
 */
import {
  DEFAULT_FILTER_LIMITS,
  FIXED_FIELDS,
  invalidArgument,
  parseFilterTimestamp,
  Reason,
  resolveMetadataPath,
  type Compare,
  type FilterDialect,
  type FilterExpr,
  type FilterLimits,
  type FilterSchema,
  type JsonField,
  type ListScope,
  type MetadataPath,
  type RpcError,
  type StringMatch,
  type Value,
} from "../../src/index.js";

export interface TransferJsonOptions {
  /** Metadata field (proto name) holding the project id; a string. @default "project_id" */
  projectField?: string;
  /** Metadata field holding the transfer job's name; a string. @default "transfer_job_name" */
  jobField?: string;
  /** Metadata field holding the status; an enum (values by name) or a string. @default "status" */
  statusField?: string;
  /**
   * The same bounds as AIP-160 filters: `maxLength` characters, and at most `maxRestrictions` values
   * (keys and array elements), each of which becomes a comparison in the SQL. @default DEFAULT_FILTER_LIMITS
   */
  limits?: FilterLimits;
}

/** The statuses the filter accepts (upper-cased before lookup). */
export const TRANSFER_STATUSES = ["IN_PROGRESS", "PAUSED", "SUCCESS", "FAILED", "ABORTED"] as const;

const KEYS = [
  "projectId",
  "jobNames",
  "jobNamePattern",
  "operationNames",
  "operationNamePattern",
  "minCreationTime",
  "maxCreationTime",
  "transferStatuses",
] as const;
type Key = (typeof KEYS)[number];

/** A FilterDialect for Storage Transfer's JSON filter; see the module comment. */
export function transferJsonDialect(options: TransferJsonOptions = {}): FilterDialect {
  const fields = {
    project: options.projectField ?? "project_id",
    job: options.jobField ?? "transfer_job_name",
    status: options.statusField ?? "status",
  };
  const limits = options.limits ?? DEFAULT_FILTER_LIMITS;
  return (filter: string, schema: FilterSchema): FilterExpr | undefined => {
    if (filter.trim() === "") return undefined;
    if (filter.length > limits.maxLength) throw bad(`is longer than the limit of ${limits.maxLength} characters`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(filter);
    } catch (error) {
      throw bad(`not valid JSON (${(error as Error).message}); the filter is a JSON object such as {"projectId": "my-project"}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw bad(`must be a JSON object such as {"projectId": "my-project"}`);
    }
    const object = parsed as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (!(KEYS as readonly string[]).includes(key)) throw bad(`unknown key ${JSON.stringify(key)}; keys: ${KEYS.join(", ")}`);
    }
    const values = Object.values(object).reduce<number>((n, v) => n + (Array.isArray(v) ? v.length : 1), 0);
    if (values > limits.maxRestrictions) {
      throw bad(`has more than the limit of ${limits.maxRestrictions} values (keys and array elements)`);
    }
    const has = (key: Key) => Object.hasOwn(object, key);
    if (!has("projectId")) throw bad(`projectId is required`);

    const operands: FilterExpr[] = [];
    const projectId = string(object, "projectId");
    if (projectId === "") throw bad(`projectId must not be empty`);
    operands.push(compare(metadataString(schema, fields.project, "projectId"), exact(projectId)));

    const names = FIXED_FIELDS.get("name")!;
    if (names.kind !== "column") throw new Error("unreachable");
    if (has("operationNames")) operands.push(anyOf(strings(object, "operationNames").map((n) => compare(names, exact(n)))));
    if (has("operationNamePattern")) operands.push(compare(names, pattern(string(object, "operationNamePattern"), "operationNamePattern")));
    if (has("jobNames") || has("jobNamePattern")) {
      const job = metadataString(schema, fields.job, has("jobNames") ? "jobNames" : "jobNamePattern");
      if (has("jobNames")) operands.push(anyOf(strings(object, "jobNames").map((n) => compare(job, exact(n)))));
      if (has("jobNamePattern")) operands.push(compare(job, pattern(string(object, "jobNamePattern"), "jobNamePattern")));
    }
    const createTime = FIXED_FIELDS.get("create_time")!;
    if (createTime.kind !== "column") throw new Error("unreachable");
    if (has("minCreationTime")) operands.push(compare(createTime, timestamp(object, "minCreationTime"), ">="));
    if (has("maxCreationTime")) operands.push(compare(createTime, timestamp(object, "maxCreationTime"), "<="));
    if (has("transferStatuses")) operands.push(statuses(schema, fields.status, strings(object, "transferStatuses")));

    return operands.length === 1 ? operands[0]! : { kind: "and", operands };
  };
}

/**
 * The resource a list is about, for callers who may not list every project's transfer operations: the
 * project its filter names, `projects/{projectId}`, as Google's IAM checks storagetransfer.operations.list
 * on the project. Undefined for a filter that is not a JSON object with a non-empty string projectId (or is
 * longer than the dialect allows): such a caller is denied, and one allowed on the whole collection gets
 * the dialect's INVALID_ARGUMENT as before. Only reads the filter; the dialect still checks all of it.
 */
export function transferListScope(options: Pick<TransferJsonOptions, "limits"> = {}): ListScope {
  const maxLength = (options.limits ?? DEFAULT_FILTER_LIMITS).maxLength;
  return (request) => {
    const { filter } = request;
    if (filter.length > maxLength) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(filter);
    } catch {
      return undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    const projectId: unknown = (parsed as Record<string, unknown>)["projectId"];
    return typeof projectId === "string" && projectId !== "" ? `projects/${projectId}` : undefined;
  };
}

function bad(description: string): RpcError {
  return invalidArgument("filter", description, Reason.INVALID_FILTER);
}

function compare(field: Compare["field"], value: Value, op: Compare["op"] = "="): Compare {
  return { kind: "compare", field, op, value };
}

function exact(value: string): Value {
  return { type: "string", value, match: "exact" };
}

function anyOf(operands: FilterExpr[]): FilterExpr {
  return operands.length === 1 ? operands[0]! : { kind: "or", operands };
}

function string(object: Record<string, unknown>, key: Key): string {
  const value = object[key];
  if (typeof value !== "string") throw bad(`${key} must be a string, got ${describe(value)}`);
  return value;
}

function strings(object: Record<string, unknown>, key: Key): string[] {
  const value = object[key];
  if (!Array.isArray(value)) throw bad(`${key} must be an array of strings, got ${describe(value)}`);
  if (value.length === 0) throw bad(`${key} must not be empty (leave the key out to not restrict it)`);
  value.forEach((element: unknown, i) => {
    if (typeof element !== "string") throw bad(`${key}[${i}] must be a string, got ${describe(element)}`);
  });
  return value as string[];
}

function timestamp(object: Record<string, unknown>, key: Key): Value {
  const text = string(object, key);
  const value = parseFilterTimestamp(text);
  if (value === undefined) throw bad(`${key} ${JSON.stringify(text)} is not an RFC 3339 timestamp, such as "2024-01-31T12:00:00Z"`);
  return { type: "timestamp", value };
}

/**
 * A full-name pattern, `*` any run of characters, as a FilterExpr string match. Only a leading and/or a
 * trailing `*` can be expressed; a `*` anywhere else is refused.
 */
function pattern(text: string, key: Key): Value {
  if (/^\*+$/.test(text)) return { type: "string", value: "", match: "contains" };
  const start = text.startsWith("*");
  const end = text.endsWith("*");
  const inner = text.slice(start ? 1 : 0, end ? -1 : undefined);
  if (inner.includes("*")) {
    throw bad(`${key} ${JSON.stringify(text)}: a * is supported only at the start and/or end of the pattern ("abc*", "*abc", "*abc*")`);
  }
  const match: StringMatch = start ? (end ? "contains" : "suffix") : end ? "prefix" : "exact";
  return { type: "string", value: inner, match };
}

function metadataField(schema: FilterSchema, name: string, key: Key): { field: JsonField; resolved: MetadataPath } {
  const resolved = resolveMetadataPath(schema, [name]);
  if ("error" in resolved) throw bad(`${key} restricts metadata.${name}, which is not filterable here: ${resolved.error}`);
  if (resolved.repeatedAt !== undefined) throw bad(`${key} restricts metadata.${name}, a repeated field; it must be a single value`);
  return { field: { kind: "json", typeUrls: resolved.typeUrls, path: [name], type: resolved.type }, resolved };
}

function metadataString(schema: FilterSchema, name: string, key: Key): JsonField {
  const { field, resolved } = metadataField(schema, name, key);
  if (resolved.type !== "string") throw bad(`${key} restricts metadata.${name}, which is ${resolved.description}, not a string`);
  return field;
}

function statuses(schema: FilterSchema, name: string, given: string[]): FilterExpr {
  const { field, resolved } = metadataField(schema, name, "transferStatuses");
  const values = given.map((status): Value => {
    const upper = status.toUpperCase();
    if (!(TRANSFER_STATUSES as readonly string[]).includes(upper)) {
      throw bad(`transferStatuses: unknown status ${JSON.stringify(status)}; statuses (any case): ${TRANSFER_STATUSES.join(", ")}`);
    }
    if (resolved.type === "string") return exact(upper);
    if (resolved.type === "enum") {
      const value = resolved.enum!.values.find((v) => v.name === upper);
      if (value === undefined) throw bad(`transferStatuses: ${upper} is not a value of metadata.${name} (${resolved.enum!.typeName})`);
      return { type: "enum", value: value.name };
    }
    throw bad(`transferStatuses restricts metadata.${name}, which is ${resolved.description}, not an enum or a string`);
  });
  return anyOf(values.map((v) => compare(field, v)));
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
