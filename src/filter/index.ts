/**
 * AIP-160 filtering for ListOperations: parse (lexer.ts, parser.ts) → type-check against the served
 * metadata types (schema.ts, typecheck.ts) → a typed FilterExpr (expr.ts) that each store compiles to
 * its SQL (sqlite.ts, postgres.ts, sharing sql.ts), with evaluate.ts as the in-memory reference.
 * docs/filtering.md is the user's guide to the language and its semantics.
 */
import type { RpcError } from "../core/errors.js";
import { FilterError } from "./error.js";
import type { FilterExpr } from "./expr.js";
import { DEFAULT_FILTER_LIMITS, type FilterLimits } from "./limits.js";
import { parse } from "./parser.js";
import type { FilterSchema } from "./schema.js";
import { typecheck } from "./typecheck.js";

export type { FilterExpr } from "./expr.js";
export { DEFAULT_FILTER_LIMITS, type FilterLimits } from "./limits.js";
export { buildFilterSchema, type FilterSchema } from "./schema.js";
export { evaluate, type FilterSubject } from "./evaluate.js";
export { FilterError } from "./error.js";

/**
 * A ListOperations filter language: turns `ListOperationsRequest.filter` into the typed FilterExpr the
 * stores compile (undefined: no restriction), checked against the schema. Throws INVALID_ARGUMENT
 * (reason INVALID_FILTER, a BadRequest violation on `filter`) for input it cannot use. The default is
 * `aip160Dialect`; a deployment profile names others, which the server is given in `filterDialects`
 * (examples/storage-transfer/filter.ts is Storage Transfer's JSON object, written as a user would).
 */
export type FilterDialect = (filter: string, schema: FilterSchema) => FilterExpr | undefined;

/** AIP-160 (docs/filtering.md): `compileFilter` with the default limits. */
export const aip160Dialect: FilterDialect = (filter, schema) => compileFilter(filter, schema);

/**
 * `ListOperationsRequest.filter` checked and typed: undefined for the empty filter (all operations).
 * Throws INVALID_ARGUMENT (reason INVALID_FILTER, a BadRequest violation on `filter`, the column in the
 * message) for a filter that does not parse, names unknown fields, has values of the wrong type, or
 * passes a limit.
 */
export function compileFilter(filter: string, schema: FilterSchema, limits: FilterLimits = DEFAULT_FILTER_LIMITS): FilterExpr | undefined {
  try {
    const ast = parse(filter, limits);
    return ast === undefined ? undefined : typecheck(ast, schema);
  } catch (error) {
    if (error instanceof FilterError) throw error.toRpcError(filter) satisfies RpcError;
    throw error;
  }
}
