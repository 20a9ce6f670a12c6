import type { Column, Compare, CompareOp, Field, FilterExpr, JsonField, Present, Value } from "./expr.js";
import { ceilDiv, floorDiv, timestampKey } from "./time.js";

/**
 * What both SQL dialects share: the boolean structure, comparison operators, and the exact lowering of
 * instants onto millisecond columns. A dialect (sqlite.ts, postgres.ts) supplies how values are bound
 * and how each type is read from the columns and from the metadata JSON.
 *
 * The result is one boolean expression over the operations table aliased `op`, true, false or NULL
 * exactly when evaluate.ts says true, false or unknown. Every literal is a bound parameter: no text the
 * user wrote is ever part of the SQL, only the shape of the filter is.
 */
export abstract class FilterCompiler {
  /** The expression for a whole filter. */
  compile(expr: FilterExpr): string {
    switch (expr.kind) {
      case "and":
        return `(${expr.operands.map((o) => this.compile(o)).join(" AND ")})`;
      case "or":
        return `(${expr.operands.map((o) => this.compile(o)).join(" OR ")})`;
      case "not":
        return `(NOT ${this.compile(expr.operand)})`;
      case "compare":
        return this.compare(expr);
      case "present":
        return this.present(expr);
      case "any":
        return this.any(expr.array, expr.where && (() => this.compile(expr.where!)));
    }
  }

  private compare({ field, op, value }: Pick<Compare, "field" | "op" | "value">): string {
    if (field.kind === "column" && value.type === "timestamp") return this.instant(this.column(field.column), op, value.value);
    if (value.type === "string" && value.match !== "exact") {
      const matched = this.match(this.value(field), value.match, value.value);
      return op === "!=" ? `(NOT ${matched})` : matched;
    }
    const lhs = this.value(field);
    const rhs = this.literal(value);
    const ordered = value.type === "string" || value.type === "enum" || (value.type === "timestamp" && field.kind !== "column");
    return ordered ? this.textCompare(lhs, SQL_OPS[op], rhs) : `(${lhs} ${SQL_OPS[op]} ${rhs})`;
  }

  /** Presence: two-valued (NULL becomes false). */
  private present({ field, absentValue }: Present): string {
    if (absentValue === undefined) return `COALESCE(${this.isSet(field)}, FALSE)`;
    return `COALESCE(${this.compare({ field, op: "!=", value: absentValue })}, FALSE)`;
  }

  /**
   * `col op t` for a millisecond column and an instant `t` in nanoseconds, exactly: `col > t` is
   * `col > floor(t)`, `col >= t` is `col >= ceil(t)`, and so on; `col = t` cannot hold when `t` is not a
   * whole millisecond (false, or NULL for an unset column).
   */
  private instant(column: string, op: CompareOp, nanos: bigint): string {
    const floor = floorDiv(nanos, NANOS_PER_MS);
    const ceil = ceilDiv(nanos, NANOS_PER_MS);
    const whole = floor === ceil;
    switch (op) {
      case ">":
        return `(${column} > ${this.ms(floor)})`;
      case ">=":
        return `(${column} >= ${this.ms(ceil)})`;
      case "<":
        return `(${column} < ${this.ms(ceil)})`;
      case "<=":
        return `(${column} <= ${this.ms(floor)})`;
      case "=":
        return whole ? `(${column} = ${this.ms(floor)})` : `(CASE WHEN ${column} IS NOT NULL THEN FALSE END)`;
      case "!=":
        return whole ? `(${column} <> ${this.ms(floor)})` : `(CASE WHEN ${column} IS NOT NULL THEN TRUE END)`;
    }
  }

  /** The value a field holds, typed as its type says; NULL when it has none. */
  private value(field: Field): string {
    switch (field.kind) {
      case "column":
        return field.column === "done" ? `(op.state = 'done')` : this.column(field.column);
      case "typeName": {
        const column = field.object === "metadata" ? "op.metadata_type" : "op.response_type";
        return field.part === "url" ? column : this.messageName(column);
      }
      case "object":
        return this.isSet(field);
      case "json":
      case "element":
        return this.jsonValue(field);
    }
  }

  /** Whether a field is set (messages, timestamps, durations): true, or false / NULL. */
  private isSet(field: Field): string {
    switch (field.kind) {
      case "column":
        return `(${this.value(field)} IS NOT NULL)`;
      case "typeName":
        return `(${field.object === "metadata" ? "op.metadata_type" : "op.response_type"} IS NOT NULL)`;
      case "object":
        return `(${field.object === "error" ? "op.error" : field.object === "metadata" ? "op.metadata_type" : "op.response_type"} IS NOT NULL)`;
      case "json":
      case "element":
        return this.jsonExists(field);
    }
  }

  private column(column: Column): string {
    return `op.${column}`;
  }

  /** A literal as a bound parameter, in the form `value()` of its type compares with. */
  protected literal(value: Value): string {
    switch (value.type) {
      case "string":
      case "enum":
        return this.text(value.value);
      case "int":
        return this.int(value.value);
      case "float":
        return this.float(value.value);
      case "bool":
        return this.bool(value.value);
      case "timestamp":
        return this.text(timestampKey(value.value));
      case "duration":
        return this.duration(value.value);
    }
  }

  // --- What each dialect supplies. ---

  /** Binds a parameter; returns its placeholder. */
  protected abstract text(value: string): string;
  protected abstract int(value: bigint): string;
  protected abstract float(value: number): string;
  protected abstract bool(value: boolean): string;
  /** Milliseconds since the epoch, for the time columns. */
  protected abstract ms(value: bigint): string;
  /** A duration literal, in the form jsonValue gives durations. */
  protected abstract duration(nanos: bigint): string;
  /** `lhs op rhs` on text, in byte order. */
  protected abstract textCompare(lhs: string, op: string, rhs: string): string;
  /** Prefix, suffix or substring match, every character of `text` literal. */
  protected abstract match(lhs: string, match: "prefix" | "suffix" | "contains", text: string): string;
  /** The message name of a type URL column: the text after its last `/`. */
  protected abstract messageName(column: string): string;
  /** A metadata or element field's value, typed; NULL if absent, of another type, or (json) of another metadata type. */
  protected abstract jsonValue(field: Field & { kind: "json" | "element" }): string;
  /** Whether the JSON has the field (any value). */
  protected abstract jsonExists(field: Field & { kind: "json" | "element" }): string;
  /** AnyElement: some element of the array passes `where` (compiled against the element), or it is not empty. */
  protected abstract any(array: JsonField, where: (() => string) | undefined): string;
}

const NANOS_PER_MS = 1_000_000n;

const SQL_OPS: Record<CompareOp, string> = { "=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };
