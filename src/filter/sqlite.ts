import type { ElementField, FilterExpr, JsonField } from "./expr.js";
import { FilterCompiler } from "./sql.js";
import { durationParts } from "./time.js";

/** A filter as SQLite SQL: a boolean expression over the alias `op`, with named parameters `@f1`, `@f2`, … */
export interface SqliteFilter {
  readonly sql: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/**
 * Compiles a typed filter for SQLite (SqliteStore: TEXT columns compare by bytes (BINARY collation);
 * metadata_json is TEXT read with the JSON1 functions).
 */
export function toSqlite(expr: FilterExpr): SqliteFilter {
  const compiler = new SqliteCompiler();
  const sql = compiler.compile(expr);
  return { sql, params: compiler.params };
}

class SqliteCompiler extends FilterCompiler {
  readonly params: Record<string, unknown> = {};
  private count = 0;

  private bind(value: unknown): string {
    const name = `f${++this.count}`;
    this.params[name] = value;
    return `@${name}`;
  }

  protected text(value: string): string {
    return this.bind(value);
  }

  protected int(value: bigint): string {
    return this.bind(value); // better-sqlite3 binds a bigint as a 64-bit INTEGER
  }

  protected float(value: number): string {
    return this.bind(value);
  }

  protected bool(value: boolean): string {
    return this.bind(value ? 1 : 0);
  }

  protected ms(value: bigint): string {
    return this.bind(Number(value));
  }

  /** Durations compare as (seconds, nanos) row values: exact over the whole ±10,000-year range. */
  protected duration(nanos: bigint): string {
    const parts = durationParts(nanos);
    return `(${this.bind(parts.seconds)}, ${this.bind(parts.nanos)})`;
  }

  protected textCompare(lhs: string, op: string, rhs: string): string {
    return `(${lhs} ${op} ${rhs})`;
  }

  /**
   * GLOB, not LIKE: SQLite's LIKE ignores ASCII case. GLOB's own metacharacters in the text are escaped
   * by putting each in brackets (`*` → `[*]`, `?` → `[?]`, `[` → `[[]`).
   */
  protected match(lhs: string, match: "prefix" | "suffix" | "contains", text: string): string {
    const literal = text.replace(/[*?[]/g, (c) => `[${c}]`);
    const pattern = match === "prefix" ? `${literal}*` : match === "suffix" ? `*${literal}` : `*${literal}*`;
    return `(${lhs} GLOB ${this.bind(pattern)})`;
  }

  /** The text after the last `/`: rtrim strips the trailing run of characters other than `/`. */
  protected messageName(column: string): string {
    return `substr(${column}, length(rtrim(${column}, replace(${column}, '/', ''))) + 1)`;
  }

  protected jsonValue(field: JsonField | ElementField): string {
    const { value: v, type: t, guard: g } = this.locate(field);
    switch (field.type) {
      case "string":
        return `(CASE WHEN ${g}${t} = 'text' THEN ${v} END)`;
      case "int":
        // int64 fields hold JSON strings ("123"), 32-bit ones numbers: CAST reads both exactly.
        return `(CASE WHEN ${g}${t} IN ('integer', 'text') THEN CAST(${v} AS INTEGER) END)`;
      case "float":
        // "NaN", "Infinity" (JSON strings) have no value.
        return `(CASE WHEN ${g}${t} IN ('integer', 'real') THEN ${v} END)`;
      case "bool":
        return `(CASE WHEN ${g}${t} IN ('true', 'false') THEN ${t} = 'true' END)`;
      case "enum":
        // By name; an unknown value stays a number, equal to no name.
        return `(CASE WHEN ${g}${t} IN ('text', 'integer') THEN ${v} END)`;
      case "timestamp":
        return `(CASE WHEN ${g}${t} = 'text' THEN ${timestampKey(v)} END)`;
      case "duration": {
        // "-1.5s" → (-1, -500000000): CAST takes the leading integer; the fraction gets the sign.
        const seconds = `CAST(rtrim(${v}, 's') AS INTEGER)`;
        const fraction = `substr(substr(rtrim(${v}, 's'), instr(${v}, '.') + 1) || '000000000', 1, 9)`;
        const nanos = `CASE WHEN instr(${v}, '.') > 0 THEN (CASE WHEN substr(${v}, 1, 1) = '-' THEN -1 ELSE 1 END) * CAST(${fraction} AS INTEGER) ELSE 0 END`;
        return `(CASE WHEN ${g}${t} = 'text' THEN ${seconds} END, CASE WHEN ${g}${t} = 'text' THEN ${nanos} END)`;
      }
      case "message":
        return this.jsonExists(field);
    }
  }

  protected jsonExists(field: JsonField | ElementField): string {
    const { type: t, guard: g } = this.locate(field);
    return `(${g}${t} IS NOT NULL)`;
  }

  protected any(array: JsonField, where: (() => string) | undefined): string {
    const { guard: g } = this.locate(array);
    const path = this.bind(jsonPath(array.path));
    const inner =
      where === undefined
        ? `(json_array_length(op.metadata_json, ${path}) > 0)`
        : `EXISTS (SELECT 1 FROM json_each(op.metadata_json, ${path}) AS e WHERE ${where()})`;
    return `(CASE WHEN ${g}json_type(op.metadata_json, ${path}) = 'array' THEN ${inner} END)`;
  }

  /**
   * Where a JSON field is: its value and JSON type expressions, and (metadata fields) the condition
   * that the operation's metadata is of a type that has the field, ending in " AND ".
   */
  private locate(field: JsonField | ElementField): { value: string; type: string; guard: string } {
    if (field.kind === "element") {
      if (field.path.length === 0) return { value: "e.value", type: "e.type", guard: "" };
      const path = this.bind(jsonPath(field.path));
      return { value: `json_extract(e.value, ${path})`, type: `json_type(e.value, ${path})`, guard: "" };
    }
    const path = this.bind(jsonPath(field.path));
    const types = field.typeUrls.map((url) => this.bind(url)).join(", ");
    return {
      value: `json_extract(op.metadata_json, ${path})`,
      type: `json_type(op.metadata_json, ${path})`,
      guard: `op.metadata_type IN (${types}) AND `,
    };
  }
}

/** `$."a"."b"`: proto field names are identifiers, so quoting needs no escapes. */
function jsonPath(path: readonly string[]): string {
  return `$${path.map((key) => `."${key}"`).join("")}`;
}

/**
 * The sortable form of a Z-normalized RFC 3339 string (see time.ts timestampKey): the first 19
 * characters, then the fraction without its dot, padded to nine digits.
 */
function timestampKey(text: string): string {
  return `substr(${text}, 1, 19) || substr(ltrim(replace(substr(${text}, 20), 'Z', ''), '.') || '000000000', 1, 9)`;
}
