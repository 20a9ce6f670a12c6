import { invalidArgument, Reason, type RpcError } from "../core/errors.js";

/**
 * A filter that cannot be used, and where: `offset` is the UTF-16 index in the filter string the problem
 * starts at (undefined for the filter as a whole). Turned into INVALID_ARGUMENT by `toRpcError`.
 */
export class FilterError extends Error {
  override readonly name = "FilterError";

  constructor(
    readonly description: string,
    readonly offset: number | undefined,
    /** Said after the place: what would be valid (a list of fields, of enum values). */
    readonly hint?: string,
  ) {
    super(hint === undefined ? description : `${description}; ${hint}`);
  }

  /**
   * INVALID_ARGUMENT with a BadRequest violation on `filter` and ErrorInfo reason INVALID_FILTER; the
   * message gives the (1-based, in characters) column, which ErrorInfo metadata `column` repeats.
   */
  toRpcError(filter: string): RpcError {
    const hint = this.hint === undefined ? "" : `; ${this.hint}`;
    if (this.offset === undefined) return invalidArgument("filter", `${this.description}${hint}`, Reason.INVALID_FILTER);
    const column = columnOf(filter, this.offset);
    return invalidArgument("filter", `${this.description} (at column ${column})${hint}`, Reason.INVALID_FILTER, {
      column: String(column),
    });
  }
}

/** The 1-based column of a UTF-16 offset, counting characters (code points), as an editor shows it. */
export function columnOf(source: string, offset: number): number {
  let column = 1;
  for (const _ of source.slice(0, offset)) column++;
  return column;
}

/** A piece of the filter quoted in a message, shortened if long. */
export function quote(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
