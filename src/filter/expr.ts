/**
 * The typed filter: what typecheck.ts makes of a parsed AIP-160 filter, what the stores compile to SQL
 * (sqlite.ts, postgres.ts) and what evaluate.ts evaluates in memory. Plain data, no behaviour.
 *
 * Logic is three-valued, as in SQL: a restriction on a field that has no value (an unset message in the
 * path, an operation without metadata or with metadata of a type lacking the field, `error.code` of an
 * operation that did not fail) is *unknown*. NOT unknown is unknown; unknown AND false is false; unknown
 * OR true is true; an operation matches only if the whole filter is true. So `x != 1` and `NOT x = 1`
 * both skip operations without `x` (AIP-160), while presence (`x:*`) is always true or false.
 */
export type FilterExpr =
  | { readonly kind: "and"; readonly operands: readonly FilterExpr[] }
  | { readonly kind: "or"; readonly operands: readonly FilterExpr[] }
  | { readonly kind: "not"; readonly operand: FilterExpr }
  | Compare
  | Present
  | AnyElement;

export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** `field op value`; unknown when the field has no value. `value.type` is the field's type. */
export interface Compare {
  readonly kind: "compare";
  readonly field: Field;
  readonly op: CompareOp;
  readonly value: Value;
}

/**
 * `field:*`: true when the field has a value other than its type's default (`""`, 0, false, the enum's
 * zero value), or, for a message, when it is set; false otherwise (never unknown).
 */
export interface Present {
  readonly kind: "present";
  readonly field: Field;
  /** For scalar fields: the default value, which counts as absent. Undefined for messages. */
  readonly absentValue: Value | undefined;
}

/**
 * `repeated:value`, `repeated.sub:value`, `repeated:*`: some element of a repeated metadata field passes
 * `where` (evaluated with `element` fields on that element), or, without `where`, the field has
 * elements. Unknown when the operation has no such field at all (as Compare).
 */
export interface AnyElement {
  readonly kind: "any";
  readonly array: JsonField;
  readonly where: Compare | Present | undefined;
}

/** Where a restriction reads its value from. */
export type Field = ColumnField | ObjectField | TypeNameField | JsonField | ElementField;

/** The operation's own columns (not metadata). */
export type Column = "name" | "method" | "done" | "create_time" | "update_time" | "end_time" | "error_code" | "error_message";

export interface ColumnField {
  readonly kind: "column";
  readonly column: Column;
  readonly type: "string" | "int" | "bool" | "timestamp";
}

/** `error`, `metadata`, `response` as wholes: presence only. */
export interface ObjectField {
  readonly kind: "object";
  readonly object: "error" | "metadata" | "response";
  readonly type: "message";
}

/** `metadata.@type` / `response.@type`: the full message name, or the whole type URL. */
export interface TypeNameField {
  readonly kind: "typeName";
  readonly object: "metadata" | "response";
  /** "name": the text after the URL's last `/` (`longrun.demo.v1.SleepMetadata`); "url": all of it. */
  readonly part: "name" | "url";
  readonly type: "string";
}

/** A field of the metadata message, by proto field names, read from its stored JSON. */
export interface JsonField {
  readonly kind: "json";
  /** Only operations whose metadata is of one of these types (type URLs) have this field. */
  readonly typeUrls: readonly string[];
  readonly path: readonly string[];
  readonly type: ValueType;
}

/** Inside AnyElement.where: a field of the element (an empty path is the element itself). */
export interface ElementField {
  readonly kind: "element";
  readonly path: readonly string[];
  readonly type: ValueType;
}

export type ValueType = Value["type"] | "message";

export type Value =
  | { readonly type: "string"; readonly value: string; readonly match: StringMatch }
  | { readonly type: "int"; readonly value: bigint }
  | { readonly type: "float"; readonly value: number }
  | { readonly type: "bool"; readonly value: boolean }
  /** An enum value, by name. */
  | { readonly type: "enum"; readonly value: string }
  /** Nanoseconds since 1970-01-01T00:00:00Z. */
  | { readonly type: "timestamp"; readonly value: bigint }
  /** Nanoseconds. */
  | { readonly type: "duration"; readonly value: bigint };

/**
 * How a string compares under `=` and `!=`: "exact", or the wildcard forms `"abc*"` (prefix), `"*abc"`
 * (suffix), `"*abc*"` (contains). Ordering comparisons only ever use "exact".
 */
export type StringMatch = "exact" | "prefix" | "suffix" | "contains";
