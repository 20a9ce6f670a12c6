import { ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";

/** Field names taken for a percentage, in this order, when the caller names none. */
const PERCENT_NAMES = ["progress_percent", "progress_percentage", "percent_complete", "percent_done", "percentage", "progress"];

const NUMERIC = new Set<ScalarType>([
  ScalarType.INT32, ScalarType.INT64, ScalarType.UINT32, ScalarType.UINT64, ScalarType.SINT32, ScalarType.SINT64,
  ScalarType.FIXED32, ScalarType.FIXED64, ScalarType.SFIXED32, ScalarType.SFIXED64, ScalarType.FLOAT, ScalarType.DOUBLE,
]);

function isNumeric(field: DescField): boolean {
  return field.fieldKind === "scalar" && NUMERIC.has(field.scalar);
}

/**
 * The field of a metadata type that holds its progress in percent: `fieldPath` (dotted proto or JSON names,
 * `progress.percent_done`) when given; else the first numeric field named `progress_percent`,
 * `progress_percentage`, `percent_complete`, `percent_done`, `percentage` or `progress`, else any numeric
 * field whose name contains "percent", at the top level or inside a message field named `progress`.
 */
export function progressField(schema: DescMessage, fieldPath?: string): DescField[] | undefined {
  if (fieldPath !== undefined) {
    const fields: DescField[] = [];
    let current: DescMessage | undefined = schema;
    for (const part of fieldPath.split(".")) {
      const field: DescField | undefined = current?.fields.find((f) => f.name === part || f.jsonName === part);
      if (field === undefined) return undefined;
      fields.push(field);
      current = field.fieldKind === "message" ? field.message : undefined;
    }
    return isNumeric(fields[fields.length - 1]!) ? fields : undefined;
  }
  const direct = findPercent(schema);
  if (direct) return [direct];
  const progress = schema.fields.find((f) => f.name === "progress" && f.fieldKind === "message");
  if (progress?.fieldKind === "message") {
    const inner = findPercent(progress.message);
    if (inner) return [progress, inner];
  }
  return undefined;
}

function findPercent(schema: DescMessage): DescField | undefined {
  for (const name of PERCENT_NAMES) {
    const field = schema.fields.find((f) => f.name === name && isNumeric(f));
    if (field) return field;
  }
  return schema.fields.find((f) => f.name.includes("percent") && isNumeric(f));
}

/** The progress of an operation's metadata in percent (0–100), or undefined if its type has no such field. */
export function progressPercent(metadata: Message | undefined, schema: DescMessage | undefined, fieldPath?: string): number | undefined {
  if (metadata === undefined || schema === undefined) return undefined;
  const fields = progressField(schema, fieldPath);
  if (fields === undefined) return undefined;
  let value: unknown = metadata;
  for (const field of fields) {
    if (value === undefined || value === null) return undefined;
    value = (value as Record<string, unknown>)[field.localName];
  }
  if (typeof value !== "number" && typeof value !== "bigint") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : undefined;
}
