import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { typeUrlOf } from "../core/registry.js";
import type { ColumnField, ObjectField, ValueType } from "./expr.js";

/**
 * What a filter may name: the operation's own fields (fixed) and the fields of the served methods'
 * metadata types, by proto field name (`metadata.progress_percent`). Built once per server from the
 * metadata message descriptors; paths are resolved when a filter is checked, so recursive messages are
 * no problem.
 */
export interface FilterSchema {
  /** The metadata types of the served methods, in declaration order, each once. */
  readonly metadataTypes: readonly DescMessage[];
}

/** A schema over the given metadata types (typically those of every served method). */
export function buildFilterSchema(metadataTypes: Iterable<DescMessage>): FilterSchema {
  const byName = new Map<string, DescMessage>();
  for (const type of metadataTypes) if (!byName.has(type.typeName)) byName.set(type.typeName, type);
  return { metadataTypes: [...byName.values()] };
}

/** The fields every operation has, by filter path. */
export const FIXED_FIELDS: ReadonlyMap<string, ColumnField | ObjectField> = new Map<string, ColumnField | ObjectField>([
  ["name", { kind: "column", column: "name", type: "string" }],
  ["method", { kind: "column", column: "method", type: "string" }],
  ["done", { kind: "column", column: "done", type: "bool" }],
  ["create_time", { kind: "column", column: "create_time", type: "timestamp" }],
  ["update_time", { kind: "column", column: "update_time", type: "timestamp" }],
  ["end_time", { kind: "column", column: "end_time", type: "timestamp" }],
  ["error", { kind: "object", object: "error", type: "message" }],
  ["error.code", { kind: "column", column: "error_code", type: "int" }],
  ["error.message", { kind: "column", column: "error_message", type: "string" }],
  ["metadata", { kind: "object", object: "metadata", type: "message" }],
  ["response", { kind: "object", object: "response", type: "message" }],
]);

/** Integer fields: the literal range their type accepts. */
export interface IntRange {
  readonly name: string;
  readonly min: bigint;
  readonly max: bigint;
}

/** A metadata field path resolved against the schema's types. */
export interface MetadataPath {
  /** The types (URLs) that have this path with this type; the first served type that has it decides. */
  readonly typeUrls: readonly string[];
  /** The type of the value at the end of the path (of an element, when the path crosses a repeated field). */
  readonly type: ValueType;
  /** Enum leaves. */
  readonly enum: DescEnum | undefined;
  /** Integer leaves. */
  readonly range: IntRange | undefined;
  /** When the path crosses a repeated field: its index in the path. */
  readonly repeatedAt: number | undefined;
  /** What the leaf is, for messages ("google.protobuf.Struct", "message longrun.x.Y", "int32"). */
  readonly description: string;
}

/** Why a metadata path does not resolve, and at which of its segments. */
export interface PathError {
  readonly error: string;
  readonly segment: number;
}

/**
 * Resolves `metadata.<path>` (path without the leading `metadata`) in every metadata type of the schema.
 * A path is valid if at least one type has it; it is typed from the first type (in method order) that
 * has it, and only operations whose metadata type agrees on that type match restrictions on it.
 */
export function resolveMetadataPath(schema: FilterSchema, path: readonly string[]): MetadataPath | PathError {
  if (schema.metadataTypes.length === 0) {
    return { error: "this server declares no metadata types, so no metadata fields are filterable", segment: 0 };
  }
  let chosen: { signature: string; path: Walked } | undefined;
  const typeUrls: string[] = [];
  let deepest: PathError | undefined;
  for (const type of schema.metadataTypes) {
    const walked = walk(type, path);
    if ("error" in walked) {
      if (deepest === undefined || walked.segment > deepest.segment) deepest = walked;
      continue;
    }
    const signature = JSON.stringify([walked.type, walked.enum?.typeName, walked.range?.name, walked.repeatedAt]);
    if (chosen === undefined) chosen = { signature, path: walked };
    if (signature === chosen.signature) typeUrls.push(typeUrlOf(type));
  }
  if (chosen === undefined) return deepest!;
  return { ...chosen.path, typeUrls };
}

/** The top-level field names of the metadata types, for "unknown field" messages. */
export function metadataFieldNames(schema: FilterSchema): string[] {
  return [...new Set(schema.metadataTypes.flatMap((t) => t.fields.map((f) => f.name)))];
}

const INT32: IntRange = { name: "int32", min: -(2n ** 31n), max: 2n ** 31n - 1n };
const UINT32: IntRange = { name: "uint32", min: 0n, max: 2n ** 32n - 1n };
const INT64: IntRange = { name: "int64", min: -(2n ** 63n), max: 2n ** 63n - 1n };
/** Capped at the int64 maximum: SQLite integers are signed 64-bit (a documented limit). */
const UINT64: IntRange = { name: "uint64", min: 0n, max: 2n ** 63n - 1n };

/** Well-known wrapper messages: their JSON is the bare scalar, and unset is absent. */
const WRAPPERS: Readonly<Record<string, ScalarType>> = {
  "google.protobuf.DoubleValue": ScalarType.DOUBLE,
  "google.protobuf.FloatValue": ScalarType.FLOAT,
  "google.protobuf.Int64Value": ScalarType.INT64,
  "google.protobuf.UInt64Value": ScalarType.UINT64,
  "google.protobuf.Int32Value": ScalarType.INT32,
  "google.protobuf.UInt32Value": ScalarType.UINT32,
  "google.protobuf.BoolValue": ScalarType.BOOL,
  "google.protobuf.StringValue": ScalarType.STRING,
};

type Walked = Omit<MetadataPath, "typeUrls">;

function walk(root: DescMessage, path: readonly string[]): Walked | PathError {
  let message: DescMessage | undefined = root;
  let what = `message ${root.typeName}`;
  let repeatedAt: number | undefined;
  for (let i = 0; i < path.length; i++) {
    if (message === undefined) return { error: `${dotted(path, i)} is ${what}, which has no fields`, segment: i };
    const field: DescField | undefined = message.fields.find((f) => f.name === path[i]);
    if (field === undefined) return { error: `${message.typeName} has no field ${JSON.stringify(path[i])}`, segment: i };
    const last = i === path.length - 1;
    let leaf: Walked | PathError | undefined;
    switch (field.fieldKind) {
      case "map":
        return { error: `${dotted(path, i + 1)} is a map field; map fields are not filterable`, segment: i };
      case "list":
        if (repeatedAt !== undefined) {
          return { error: `${dotted(path, i + 1)} is a repeated field inside a repeated field, which is not filterable`, segment: i };
        }
        repeatedAt = i;
        if (field.listKind === "message") leaf = messageLeaf(field.message, path, i);
        else if (field.listKind === "enum") leaf = enumLeaf(field.enum);
        else leaf = scalarLeaf(field.scalar, path, i);
        break;
      case "message":
        leaf = messageLeaf(field.message, path, i);
        break;
      case "enum":
        leaf = enumLeaf(field.enum);
        break;
      case "scalar":
        leaf = scalarLeaf(field.scalar, path, i);
        break;
    }
    if (leaf === undefined) {
      // A message to go into.
      message = field.fieldKind === "message" ? field.message : field.fieldKind === "list" ? field.message : undefined;
      what = `message ${message?.typeName}`;
      if (last) return { type: "message", enum: undefined, range: undefined, repeatedAt, description: what };
      continue;
    }
    if ("error" in leaf) return leaf;
    if (!last) return { error: `${dotted(path, i + 1)} is ${leaf.description}, which has no fields`, segment: i + 1 };
    return { ...leaf, repeatedAt };
  }
  // The empty path: the metadata itself (handled by the caller as an object field).
  return { type: "message", enum: undefined, range: undefined, repeatedAt: undefined, description: what };
}

/** A message field: a leaf for well-known types, undefined for messages to traverse. */
function messageLeaf(message: DescMessage, path: readonly string[], i: number): Walked | PathError | undefined {
  const base = { enum: undefined, range: undefined, repeatedAt: undefined };
  switch (message.typeName) {
    case "google.protobuf.Timestamp":
      return { ...base, type: "timestamp", description: "a google.protobuf.Timestamp" };
    case "google.protobuf.Duration":
      return { ...base, type: "duration", description: "a google.protobuf.Duration" };
  }
  const wrapped = WRAPPERS[message.typeName];
  if (wrapped !== undefined) return scalarLeaf(wrapped, path, i);
  if (message.typeName.startsWith("google.protobuf.")) {
    return { error: `${dotted(path, i + 1)} is a ${message.typeName}; fields of that type are not filterable`, segment: i };
  }
  return undefined;
}

function enumLeaf(type: DescEnum): Walked {
  return { type: "enum", enum: type, range: undefined, repeatedAt: undefined, description: `enum ${type.typeName}` };
}

function scalarLeaf(scalar: ScalarType, path: readonly string[], i: number): Walked | PathError {
  const base = { enum: undefined, repeatedAt: undefined };
  switch (scalar) {
    case ScalarType.STRING:
      return { ...base, type: "string", range: undefined, description: "a string" };
    case ScalarType.BOOL:
      return { ...base, type: "bool", range: undefined, description: "a bool" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { ...base, type: "float", range: undefined, description: "a floating-point number" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { ...base, type: "int", range: INT32, description: "an int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { ...base, type: "int", range: UINT32, description: "a uint32" };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { ...base, type: "int", range: INT64, description: "an int64" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { ...base, type: "int", range: UINT64, description: "a uint64" };
    case ScalarType.BYTES:
      return { error: `${dotted(path, i + 1)} is a bytes field; bytes fields are not filterable`, segment: i };
  }
}

function dotted(path: readonly string[], length: number): string {
  return ["metadata", ...path.slice(0, length)].join(".");
}

