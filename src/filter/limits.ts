/**
 * What a filter may ask of the store at most. Each limit keeps one cost bounded: the length the parse,
 * the depth the parser's recursion (and the SQL's nesting), the restrictions the SQL statement's size
 * and the work per row. A filter over a limit is refused with INVALID_ARGUMENT naming the limit.
 */
export interface FilterLimits {
  /** Characters (UTF-16 code units) in the filter string. @default 2000 */
  readonly maxLength: number;
  /** Parentheses nested inside one another. @default 16 */
  readonly maxDepth: number;
  /** Restrictions (comparisons and `:` tests), counted as written. @default 50 */
  readonly maxRestrictions: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = Object.freeze({
  maxLength: 2000,
  maxDepth: 16,
  maxRestrictions: 50,
});
