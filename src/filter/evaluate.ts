import type { Column, Compare, CompareOp, ElementField, Field, FilterExpr, JsonField, Value } from "./expr.js";
import { parseDuration, parseTimestamp } from "./time.js";

/**
 * What a filter reads of an operation: the fields of a store's OperationRecord that filters name.
 * Declared here, not imported from the store, because the filter sits below the store (the store compiles
 * its typed AST): an OperationRecord is one of these.
 */
export interface FilterSubject {
  readonly name: string;
  readonly method: string;
  readonly state: string;
  readonly createTime: number;
  readonly updateTime: number;
  readonly endTime: number | undefined;
  readonly error: { readonly code: number; readonly message: string } | undefined;
  readonly metadata: { readonly typeUrl: string } | undefined;
  readonly response: { readonly typeUrl: string } | undefined;
}

/**
 * The reference semantics of a typed filter, in memory: whether an operation matches. The SQL each store
 * compiles must agree with this on every operation (the property test checks it against both stores), so
 * it is written to be obviously right rather than fast.
 *
 * `metadata` is the operation's metadata as proto3 JSON parsed (`JSON.parse(StoredAny.json)`), or
 * undefined when there is none (or it was stored without JSON, as before store migration 2).
 */
export function evaluate(expr: FilterExpr, operation: FilterSubject, metadata: unknown): boolean {
  return truth(expr, { operation, metadata, element: undefined }) === true;
}

/** Three-valued: undefined is "unknown" (SQL's NULL). */
type Truth = boolean | undefined;

interface Context {
  readonly operation: FilterSubject;
  readonly metadata: unknown;
  /** Inside AnyElement.where: the element at hand. */
  readonly element: unknown;
}

/** What a field holds, by field type: string, bigint (int, timestamp, duration: ns), number, boolean, enum name or number; true for a set message. */
type Held = string | bigint | number | boolean;

function truth(expr: FilterExpr, ctx: Context): Truth {
  switch (expr.kind) {
    case "and": {
      let result: Truth = true;
      for (const operand of expr.operands) {
        const t = truth(operand, ctx);
        if (t === false) return false;
        if (t === undefined) result = undefined;
      }
      return result;
    }
    case "or": {
      let result: Truth = false;
      for (const operand of expr.operands) {
        const t = truth(operand, ctx);
        if (t === true) return true;
        if (t === undefined) result = undefined;
      }
      return result;
    }
    case "not": {
      const t = truth(expr.operand, ctx);
      return t === undefined ? undefined : !t;
    }
    case "compare": {
      const held = valueOf(expr.field, ctx);
      return held === undefined ? undefined : compare(held, expr);
    }
    case "present": {
      const field = expr.field;
      // Messages (timestamps and durations included) are present when set: their JSON key exists.
      if (expr.absentValue === undefined && (field.kind === "json" || field.kind === "element")) return jsonAt(field, ctx) !== undefined;
      const held = valueOf(field, ctx);
      if (held === undefined) return false;
      return expr.absentValue === undefined || compare(held, { op: "!=", value: expr.absentValue });
    }
    case "any": {
      const array = valueAtPath(jsonOf(expr.array.typeUrls, ctx), expr.array.path);
      if (!Array.isArray(array)) return undefined;
      const where = expr.where;
      if (where === undefined) return array.length > 0;
      return array.some((element) => truth(where, { ...ctx, element }) === true);
    }
  }
}

function valueOf(field: Field, ctx: Context): Held | undefined {
  const op = ctx.operation;
  switch (field.kind) {
    case "column":
      return columnValue(field.column, op);
    case "object":
      return (field.object === "error" ? op.error : field.object === "metadata" ? op.metadata : op.response) === undefined ? undefined : true;
    case "typeName": {
      const url = (field.object === "metadata" ? op.metadata : op.response)?.typeUrl;
      if (url === undefined) return undefined;
      return field.part === "url" ? url : url.slice(url.lastIndexOf("/") + 1);
    }
    case "json":
    case "element":
      return fromJson(jsonAt(field, ctx), field.type);
  }
}

/** The JSON value of a metadata or element field; undefined if absent (or of another metadata type). */
function jsonAt(field: JsonField | ElementField, ctx: Context): unknown {
  return field.kind === "json" ? valueAtPath(jsonOf(field.typeUrls, ctx), field.path) : valueAtPath(ctx.element, field.path);
}

function columnValue(column: Column, op: FilterSubject): Held | undefined {
  switch (column) {
    case "name":
      return op.name;
    case "method":
      return op.method;
    case "done":
      return op.state === "done";
    case "create_time":
      return msToNanos(op.createTime);
    case "update_time":
      return msToNanos(op.updateTime);
    case "end_time":
      return op.endTime === undefined ? undefined : msToNanos(op.endTime);
    case "error_code":
      return op.error === undefined ? undefined : BigInt(op.error.code);
    case "error_message":
      return op.error?.message;
  }
}

/** The operation's metadata JSON, if it has metadata of one of these types. */
function jsonOf(typeUrls: readonly string[], ctx: Context): unknown {
  const type = ctx.operation.metadata?.typeUrl;
  return type !== undefined && typeUrls.includes(type) ? ctx.metadata : undefined;
}

function valueAtPath(json: unknown, path: readonly string[]): unknown {
  let value = json;
  for (const key of path) {
    if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A JSON value read as the field type says; undefined when it is absent or not of that type. */
function fromJson(json: unknown, type: Field["type"]): Held | undefined {
  switch (type) {
    case "string":
      return typeof json === "string" ? json : undefined;
    case "int":
      if (typeof json === "number" && Number.isInteger(json)) return BigInt(json);
      return typeof json === "string" && /^-?\d+$/.test(json) ? BigInt(json) : undefined;
    case "float":
      return typeof json === "number" ? json : undefined; // "NaN", "Infinity": no value
    case "bool":
      return typeof json === "boolean" ? json : undefined;
    case "enum":
      return typeof json === "string" || typeof json === "number" ? json : undefined;
    case "timestamp":
      return typeof json === "string" ? parseTimestamp(json) : undefined;
    case "duration":
      return typeof json === "string" ? parseDuration(json) : undefined;
    case "message":
      return json === undefined ? undefined : true;
  }
}

function compare(held: Held, { op, value }: Pick<Compare, "op" | "value">): boolean {
  if (value.type === "string" && value.match !== "exact") {
    const s = held as string;
    const matched =
      value.match === "prefix" ? s.startsWith(value.value) : value.match === "suffix" ? s.endsWith(value.value) : s.includes(value.value);
    return op === "!=" ? !matched : matched;
  }
  return ordered(order(held, value), op);
}

/** -1, 0, 1: how the held value sorts against the literal. Strings in UTF-8 byte order, as both stores sort. */
function order(held: Held, value: Value): number {
  switch (value.type) {
    case "string":
      return Buffer.compare(Buffer.from(held as string, "utf8"), Buffer.from(value.value, "utf8"));
    case "int":
    case "timestamp":
    case "duration":
      return sign((held as bigint) - value.value);
    case "float":
      return sign((held as number) - value.value);
    case "bool":
    case "enum":
      return held === value.value ? 0 : 1; // only = and != apply
  }
}

function ordered(c: number, op: CompareOp): boolean {
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

function sign(n: number | bigint): number {
  return n > 0 ? 1 : n < 0 ? -1 : 0;
}

function msToNanos(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}
