import type { ElementField, FilterExpr, JsonField } from "./expr.js";
import { FilterCompiler } from "./sql.js";
import { durationDecimal } from "./time.js";

/** A filter as PostgreSQL SQL: a boolean expression over the alias `op`, with parameters `$n`, `$n+1`, … */
export interface PostgresFilter {
  readonly sql: string;
  /** The values of `$firstParam`, `$firstParam + 1`, … in order. */
  readonly params: readonly unknown[];
}

/**
 * Compiles a typed filter for PostgreSQL (PostgresStore: metadata_json is jsonb). Text compares under
 * COLLATE "C", byte order, as in SQLite, whatever the database's collation. Every parameter carries an
 * explicit cast, so the statement's types never depend on inference; casts that could fail on odd data
 * (text to numeric) are guarded by a pattern match inside CASE, so no row can make the query fail.
 */
export function toPostgres(expr: FilterExpr, firstParam: number): PostgresFilter {
  const compiler = new PostgresCompiler(firstParam);
  const sql = compiler.compile(expr);
  return { sql, params: compiler.params };
}

class PostgresCompiler extends FilterCompiler {
  readonly params: unknown[] = [];

  constructor(private readonly firstParam: number) {
    super();
  }

  private bind(value: unknown, type: string): string {
    this.params.push(value);
    return `$${this.firstParam + this.params.length - 1}::${type}`;
  }

  protected text(value: string): string {
    return this.bind(value, "text");
  }

  protected int(value: bigint): string {
    return this.bind(value.toString(), "numeric");
  }

  protected float(value: number): string {
    return this.bind(value, "float8");
  }

  protected bool(value: boolean): string {
    return this.bind(value, "boolean");
  }

  protected ms(value: bigint): string {
    return this.bind(value.toString(), "bigint");
  }

  protected duration(nanos: bigint): string {
    return this.bind(durationDecimal(nanos), "numeric");
  }

  protected textCompare(lhs: string, op: string, rhs: string): string {
    return `(${lhs} COLLATE "C" ${op} ${rhs})`;
  }

  /** LIKE with `\` as the escape character: `%`, `_` and `\` in the text are escaped. */
  protected match(lhs: string, match: "prefix" | "suffix" | "contains", text: string): string {
    const literal = text.replace(/[\\%_]/g, (c) => `\\${c}`);
    const pattern = match === "prefix" ? `${literal}%` : match === "suffix" ? `%${literal}` : `%${literal}%`;
    return `(${lhs} COLLATE "C" LIKE ${this.bind(pattern, "text")} ESCAPE '\\')`;
  }

  protected messageName(column: string): string {
    return `substring(${column} from '[^/]*$')`;
  }

  protected jsonValue(field: JsonField | ElementField): string {
    const { json: j, guard: g } = this.locate(field);
    const t = `jsonb_typeof(${j})`;
    const s = `(${j} #>> '{}')`;
    switch (field.type) {
      case "string":
        return `(CASE WHEN ${g}${t} = 'string' THEN ${s} END)`;
      case "int":
        // int64 fields hold JSON strings ("123"), 32-bit ones numbers.
        return `(CASE WHEN ${g}${t} IN ('number', 'string') AND ${s} ~ '^-?[0-9]+$' THEN ${s}::numeric END)`;
      case "float":
        // "NaN", "Infinity" (JSON strings) have no value.
        return `(CASE WHEN ${g}${t} = 'number' THEN ${s}::float8 END)`;
      case "bool":
        return `(CASE WHEN ${g}${t} = 'boolean' THEN ${s}::boolean END)`;
      case "enum":
        // By name; an unknown value stays a number, equal to no name.
        return `(CASE WHEN ${g}${t} IN ('string', 'number') THEN ${s} END)`;
      case "timestamp":
        return `(CASE WHEN ${g}${t} = 'string' THEN ${timestampKey(s)} END)`;
      case "duration":
        return `(CASE WHEN ${g}${t} = 'string' AND ${s} ~ '^-?[0-9]+([.][0-9]+)?s$' THEN rtrim(${s}, 's')::numeric END)`;
      case "message":
        return this.jsonExists(field);
    }
  }

  protected jsonExists(field: JsonField | ElementField): string {
    const { json: j, guard: g } = this.locate(field);
    return `(${g}jsonb_typeof(${j}) IS NOT NULL)`;
  }

  protected any(array: JsonField, where: (() => string) | undefined): string {
    const { json: j, guard: g } = this.locate(array);
    const inner =
      where === undefined
        ? `(jsonb_array_length(${j}) > 0)`
        : `EXISTS (SELECT 1 FROM jsonb_array_elements(${j}) AS e(value) WHERE ${where()})`;
    // CASE evaluates THEN only for arrays: jsonb_array_* fail on anything else.
    return `(CASE WHEN ${g}jsonb_typeof(${j}) = 'array' THEN ${inner} END)`;
  }

  /**
   * Where a JSON field is: a jsonb expression, and (metadata fields) the condition that the operation's
   * metadata is of a type that has the field, ending in " AND ".
   */
  private locate(field: JsonField | ElementField): { json: string; guard: string } {
    if (field.kind === "element") {
      return { json: field.path.length === 0 ? "e.value" : `(e.value #> ${this.bind(field.path, "text[]")})`, guard: "" };
    }
    return {
      json: `(op.metadata_json #> ${this.bind(field.path, "text[]")})`,
      guard: `op.metadata_type = ANY(${this.bind(field.typeUrls, "text[]")}) AND `,
    };
  }
}

/** The sortable form of a Z-normalized RFC 3339 string (see time.ts timestampKey). */
function timestampKey(text: string): string {
  return `substr(${text}, 1, 19) || substr(ltrim(replace(substr(${text}, 20), 'Z', ''), '.') || '000000000', 1, 9)`;
}
