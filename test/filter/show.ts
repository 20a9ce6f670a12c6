import type { Field, FilterExpr, Value } from "../../src/filter/expr.js";

/** A typed filter written back compactly, fully parenthesized: for asserting structure in tests. */
export function show(expr: FilterExpr | undefined): string {
  if (expr === undefined) return "<all>";
  switch (expr.kind) {
    case "and":
      return `(${expr.operands.map(show).join(" AND ")})`;
    case "or":
      return `(${expr.operands.map(show).join(" OR ")})`;
    case "not":
      return `NOT ${show(expr.operand)}`;
    case "compare":
      return `${fieldName(expr.field)} ${expr.op} ${showValue(expr.value)}`;
    case "present":
      return `${fieldName(expr.field)}:*`;
    case "any":
      return `any(${fieldName(expr.array)}${expr.where === undefined ? "" : `: ${show(expr.where)}`})`;
  }
}

function fieldName(field: Field): string {
  switch (field.kind) {
    case "column":
      return field.column;
    case "object":
      return field.object;
    case "typeName":
      return `${field.object}.@type(${field.part})`;
    case "json":
      return `metadata.${field.path.join(".")}`;
    case "element":
      return ["<e>", ...field.path].join(".");
  }
}

function showValue(value: Value): string {
  switch (value.type) {
    case "string":
      return `${JSON.stringify(value.value)}${value.match === "exact" ? "" : `[${value.match}]`}`;
    case "int":
      return `${value.value}`;
    case "timestamp":
    case "duration":
      return `${value.value}ns`;
    default:
      return String(value.value);
  }
}
