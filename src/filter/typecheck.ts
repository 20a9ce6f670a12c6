import type { DescEnum } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { FilterError, quote } from "./error.js";
import type { CompareOp, ElementField, Field, FilterExpr, JsonField, Present, StringMatch, Value, ValueType } from "./expr.js";
import type { Token } from "./lexer.js";
import type { Arg, MemberNode, Node, RestrictionNode } from "./parser.js";
import { FIXED_FIELDS, metadataFieldNames, resolveMetadataPath, type FilterSchema, type IntRange } from "./schema.js";
import { parseDuration, parseTimestamp } from "./time.js";

/**
 * Checks a parsed filter against the schema and gives it types: every field must exist, every value
 * must convert to its field's type, every operator must apply to it (AIP-160 "schematic validation").
 * Throws FilterError, placed at the offending token.
 */
export function typecheck(node: Node, schema: FilterSchema): FilterExpr {
  return new Checker(schema).check(node);
}

/** A field as a restriction names it: where its value comes from, and what it is. */
interface Target {
  /** The path as written, dotted (for messages). */
  readonly path: string;
  readonly start: number;
  readonly type: ValueType;
  /** Undefined when the path crosses a repeated field. */
  readonly field: Field | undefined;
  readonly repeated: { readonly array: JsonField; readonly element: ElementField } | undefined;
  readonly enum: DescEnum | undefined;
  readonly range: IntRange | undefined;
  /** error.code also takes google.rpc.Code names. */
  readonly codes: boolean;
}

/** The right-hand side of a restriction as written. */
interface Literal {
  readonly text: string;
  readonly start: number;
  readonly raw: string;
  readonly wildcardStart: boolean;
  readonly wildcardEnd: boolean;
  /** The unquoted `*` of `field:*`. */
  readonly star: boolean;
}

const INT64 = { name: "int64", min: -(2n ** 63n), max: 2n ** 63n - 1n };
const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPE_NOUN: Record<ValueType, string> = {
  string: "a string",
  int: "an integer",
  float: "a number",
  bool: "a bool",
  enum: "an enum",
  timestamp: "a timestamp",
  duration: "a duration",
  message: "a message",
};

class Checker {
  constructor(private readonly schema: FilterSchema) {}

  check(node: Node): FilterExpr {
    switch (node.kind) {
      case "and":
      case "or": {
        const operands = node.operands.flatMap((operand) => {
          const checked = this.check(operand);
          return checked.kind === node.kind ? checked.operands : [checked];
        });
        return { kind: node.kind, operands };
      }
      case "not":
        return { kind: "not", operand: this.check(node.operand) };
      case "restriction":
        return this.restriction(node);
    }
  }

  private restriction(node: RestrictionNode): FilterExpr {
    const comparable = node.comparable;
    if (comparable.kind === "function") throw functionsUnsupported(comparable.name, comparable.start);
    if (node.comparator === undefined || node.arg === undefined) throw this.bareValue(comparable);
    const target = this.target(comparable);
    const literal = literalOf(node.arg);
    const op = node.comparator.op;

    if (op === ":") return this.has(target, literal);
    if (target.repeated !== undefined) {
      throw new FilterError(
        `${target.path} is a repeated field: only ":" applies (${target.path}:value, some element equals value; ${target.path}:*, it has elements)`,
        node.comparator.start,
      );
    }
    if (literal.star) {
      throw new FilterError(`a bare * is only for presence (${target.path}:*); to match any string write "*"`, literal.start);
    }
    if (target.type === "message") {
      throw new FilterError(`${target.path} is ${TYPE_NOUN.message}: only presence (${target.path}:*) applies; compare its fields instead`, node.comparator.start);
    }
    if ((target.type === "bool" || target.type === "enum") && op !== "=" && op !== "!=") {
      throw new FilterError(`${quote(op)} does not apply to ${target.path}, ${TYPE_NOUN[target.type]} field: use = or !=`, node.comparator.start);
    }
    const value = this.value(target, literal, op);
    return { kind: "compare", field: this.resolveTypeName(target, value), op, value };
  }

  /** `:` — presence with `*`, else equality (on an element, for repeated fields). */
  private has(target: Target, literal: Literal): FilterExpr {
    if (literal.star) {
      if (target.repeated) {
        const { array, element } = target.repeated;
        return { kind: "any", array, where: element.path.length === 0 ? undefined : present(element, target.enum) };
      }
      return present(target.field!, target.enum);
    }
    if (target.type === "message") {
      throw new FilterError(`${target.path} is ${TYPE_NOUN.message}: ":" takes only * (${target.path}:*)`, literal.start);
    }
    const value = this.value(target, literal, "=");
    if (target.repeated) {
      return { kind: "any", array: target.repeated.array, where: { kind: "compare", field: target.repeated.element, op: "=", value } };
    }
    return { kind: "compare", field: this.resolveTypeName(target, value), op: "=", value };
  }

  /** `@type` compares with the message name, or with the whole type URL when the value has a `/`. */
  private resolveTypeName(target: Target, value: Value): Field {
    const field = target.field!;
    if (field.kind !== "typeName" || value.type !== "string") return field;
    return { ...field, part: value.value.includes("/") ? "url" : "name" };
  }

  private target(member: MemberNode): Target {
    const names = member.segments.map((segment) => {
      if (segment.kind === "string" && (segment.wildcardStart || segment.wildcardEnd)) {
        throw new FilterError("a field name cannot have wildcards", segment.start);
      }
      return segment.kind === "string" ? segment.value : segment.raw;
    });
    const path = names.join(".");
    const base = { path, start: member.start, repeated: undefined, enum: undefined, range: undefined, codes: false };
    const [head, second] = names;
    if ((head === "metadata" || head === "response") && second === "@type") {
      if (names.length > 2) throw new FilterError(`${head}.@type is a string; it has no fields`, member.segments[2]!.start);
      return { ...base, type: "string", field: { kind: "typeName", object: head, part: "name", type: "string" } };
    }
    if (head === "metadata" && names.length > 1) return this.metadataTarget(member, names.slice(1));
    if (head === "response" && names.length > 1) {
      throw new FilterError("of response, only response.@type and presence (response:*) are filterable", member.segments[1]!.start);
    }
    if (head === "error" && names.length > 1 && second !== "code" && second !== "message") {
      throw new FilterError("of error, only error.code, error.message and presence (error:*) are filterable", member.segments[1]!.start);
    }
    const fixed = FIXED_FIELDS.get(path);
    if (fixed === undefined) {
      const segment = names.length > 1 && FIXED_FIELDS.has(head!) ? member.segments[1]! : member.segments[0]!;
      throw new FilterError(`unknown field ${quote(path)}`, segment.start, this.fieldList());
    }
    return { ...base, type: fixed.type, field: fixed, range: fixed.type === "int" ? INT64 : undefined, codes: path === "error.code" };
  }

  private metadataTarget(member: MemberNode, path: string[]): Target {
    const resolved = resolveMetadataPath(this.schema, path);
    if ("error" in resolved) {
      const names = metadataFieldNames(this.schema);
      const known = resolved.segment === 0 && names.length > 0 ? `metadata fields: ${names.join(", ")}` : undefined;
      throw new FilterError(`unknown field ${quote(`metadata.${path.join(".")}`)}: ${resolved.error}`, member.segments[resolved.segment + 1]!.start, known);
    }
    const base = { path: `metadata.${path.join(".")}`, start: member.start, type: resolved.type, enum: resolved.enum, range: resolved.range, codes: false };
    if (resolved.repeatedAt === undefined) {
      return { ...base, field: { kind: "json", typeUrls: resolved.typeUrls, path, type: resolved.type }, repeated: undefined };
    }
    const array: JsonField = { kind: "json", typeUrls: resolved.typeUrls, path: path.slice(0, resolved.repeatedAt + 1), type: "message" };
    const element: ElementField = { kind: "element", path: path.slice(resolved.repeatedAt + 1), type: resolved.type };
    return { ...base, field: undefined, repeated: { array, element } };
  }

  /** The literal converted to the target's type. */
  private value(target: Target, literal: Literal, op: CompareOp): Value {
    const wildcard = literal.wildcardStart || literal.wildcardEnd;
    if (target.type === "string") {
      if (wildcard && op !== "=" && op !== "!=") {
        throw new FilterError(`wildcards (*) only work with = and != (and :); escape a literal star as \\*`, literal.start);
      }
      const match: StringMatch = literal.wildcardStart ? (literal.wildcardEnd ? "contains" : "suffix") : literal.wildcardEnd ? "prefix" : "exact";
      return { type: "string", value: literal.text, match };
    }
    if (wildcard) throw new FilterError(`wildcards (*) apply to strings only; ${target.path} is ${TYPE_NOUN[target.type]}`, literal.start);
    const text = literal.text;
    const mismatch = (expected: string, hint?: string): FilterError =>
      new FilterError(`${quote(text)} is not ${expected}, as ${target.path} needs`, literal.start, hint);
    switch (target.type) {
      case "int": {
        const code = target.codes ? (Code as unknown as Record<string, unknown>)[text] : undefined;
        if (typeof code === "number") return { type: "int", value: BigInt(code) };
        const value = parseInteger(text);
        if (value === undefined) throw mismatch("an integer", target.codes ? "error.code also takes google.rpc.Code names, such as NOT_FOUND" : undefined);
        const range = target.range ?? INT64;
        if (value < range.min || value > range.max) {
          throw new FilterError(`${text} is out of range for ${target.path} (${range.name}: ${range.min} to ${range.max})`, literal.start);
        }
        return { type: "int", value };
      }
      case "float": {
        const value = NUMBER.test(text) ? Number(text) : NaN;
        if (!Number.isFinite(value)) throw mismatch("a finite number");
        return { type: "float", value };
      }
      case "bool":
        if (text !== "true" && text !== "false") throw mismatch("true or false");
        return { type: "bool", value: text === "true" };
      case "enum": {
        const type = target.enum!;
        const byName = type.values.find((v) => v.name === text);
        const byNumber = INTEGER.test(text) ? type.value[Number(text)] : undefined;
        const found = byName ?? byNumber;
        if (found === undefined) {
          const names = type.values.map((v) => v.name);
          const listed = names.length > 12 ? `${names.slice(0, 12).join(", ")}, …` : names.join(", ");
          throw mismatch(`a value of ${type.typeName}`, `values (case-sensitive): ${listed}`);
        }
        return { type: "enum", value: found.name };
      }
      case "timestamp": {
        const value = parseTimestamp(text);
        if (value === undefined) throw mismatch("an RFC 3339 timestamp", 'for example "2024-01-31T12:00:00Z" or "2024-01-31T13:00:00.5+01:00"');
        return { type: "timestamp", value };
      }
      case "duration": {
        const value = parseDuration(text);
        if (value === undefined) throw mismatch("a duration", "write seconds with an s suffix, for example 20s or 1.5s");
        return { type: "duration", value };
      }
      case "message":
        throw new FilterError(`${target.path} is a message`, literal.start); // unreachable: checked by callers
    }
  }

  private bareValue(comparable: MemberNode): FilterError {
    const text = comparable.segments.map((s) => (s.kind === "string" ? s.value : s.raw)).join(".");
    const keyword = ["and", "or", "not"].includes(text.toLowerCase()) ? ` (keywords are upper case: ${text.toUpperCase()})` : "";
    const isField = FIXED_FIELDS.has(text) || text.startsWith("metadata.");
    return new FilterError(
      isField
        ? `${quote(text)} needs a comparison, e.g. ${text} = …, or ${text}:* for presence`
        : `bare value ${quote(text)}${keyword}: global (free-text) restrictions are not supported; compare a field, e.g. name = "…"`,
      comparable.start,
    );
  }

  private fieldList(): string {
    const metadata = metadataFieldNames(this.schema);
    return (
      "filterable fields: name, method, done, create_time, update_time, end_time, error, error.code, error.message, " +
      `metadata, metadata.@type, ${metadata.length > 0 ? `metadata.<field> (${metadata.join(", ")}), ` : ""}response, response.@type`
    );
  }
}

/** `field:*`: scalars are present when they hold something other than their default; messages when set. */
function present(field: Field, enumType: DescEnum | undefined): Present {
  const absent: Record<ValueType, Value | undefined> = {
    string: { type: "string", value: "", match: "exact" },
    int: { type: "int", value: 0n },
    float: { type: "float", value: 0 },
    bool: { type: "bool", value: false },
    enum: enumType && { type: "enum", value: (enumType.value[0] ?? enumType.values[0]!).name },
    timestamp: undefined,
    duration: undefined,
    message: undefined,
  };
  return { kind: "present", field, absentValue: absent[field.type] };
}

function literalOf(arg: Arg): Literal {
  if (arg.kind === "composite") {
    throw new FilterError("a value in parentheses is not supported: write one value per comparison, joined with OR", arg.start);
  }
  if (arg.kind === "function") throw functionsUnsupported(arg.name, arg.start);
  const segments: readonly Token[] = arg.segments;
  const first = segments[0]!;
  if (segments.length === 1) {
    return {
      text: first.value,
      start: first.start,
      raw: first.raw,
      wildcardStart: first.wildcardStart,
      wildcardEnd: first.wildcardEnd,
      star: first.kind === "text" && first.raw === "*",
    };
  }
  // `a.b.c` unquoted on the right is read as the text it is (the right side is a value, never a field).
  const quoted = segments.find((s) => s.kind === "string");
  if (quoted !== undefined) throw new FilterError("a quoted string cannot be joined to other text with dots; quote the whole value", quoted.start);
  const last = segments[segments.length - 1]!;
  const raw = segments.map((s) => s.raw).join(".");
  return {
    text: raw.slice(first.wildcardStart ? 1 : 0, last.wildcardEnd ? -1 : undefined),
    start: first.start,
    raw,
    wildcardStart: first.wildcardStart,
    wildcardEnd: last.wildcardEnd,
    star: false,
  };
}

function parseInteger(text: string): bigint | undefined {
  if (INTEGER.test(text)) return BigInt(text);
  if (!NUMBER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? BigInt(n) : undefined;
}

function functionsUnsupported(name: string, start: number): FilterError {
  return new FilterError(`functions are not supported (${quote(name)}(…))`, start);
}
