import { FilterError, quote } from "./error.js";

/**
 * The tokens of AIP-160 filters. Written by hand, as are the parser and the type checker: AIP-160 needs
 * typed compilation to two SQL dialects with exact semantics (three-valued logic, wildcards, instants),
 * which generic parser libraries do not give, and the grammar is small enough to read in one sitting.
 *
 * - `text`: a run of characters other than whitespace and `. : = < > ! ( ) , " '` (so `a-b`, `@type`,
 *   `operations/x*`, `20s`). A run starting with a digit, or with `-` and a digit, is a number and may
 *   contain one `.` and an exponent (`1.5`, `2.997e9`, `-1.5s`); one shaped like an RFC 3339 timestamp
 *   keeps its `:` (`2024-01-31T12:00:00Z`, `2012-04-21T11:30:00.5-04:00`). `AND`, `OR`, `NOT` are text
 *   tokens the parser treats as keywords (case-sensitive, as AIP-160 says).
 * - `string`: `"…"` or `'…'`, with escapes `\\ \" \' \n \r \t \*` and `\uXXXX`.
 * - punctuation: `( ) , . = != < <= > >= :`, and `-` (negation) where it does not start a number.
 *
 * A `*` at the start or end of a text or string token is a wildcard (`\*` in a string is a literal star);
 * the token's value is given without it and the flags say where it was.
 */
export type TokenKind = "text" | "string" | "(" | ")" | "," | "." | "=" | "!=" | "<" | "<=" | ">" | ">=" | ":" | "-" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** UTF-16 offsets in the filter: [start, end). */
  readonly start: number;
  readonly end: number;
  /** The source text of the token, as written. */
  readonly raw: string;
  /** text and string tokens: the value, unescaped, without wildcard stars. */
  readonly value: string;
  /** An unescaped `*` opened / closed the value (text and string tokens). */
  readonly wildcardStart: boolean;
  readonly wildcardEnd: boolean;
  /** Whitespace follows the token directly. */
  readonly spaceAfter: boolean;
}

const PUNCTUATION = new Set([".", ":", "=", "<", ">", "!", "(", ")", ",", '"', "'"]);
const WHITESPACE = /\s/;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const TIMESTAMP = /\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})/y;
/** NUL, or half of a UTF-16 surrogate pair without the other half. */
const UNREPRESENTABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function tokenize(source: string): Token[] {
  const bad = UNREPRESENTABLE.exec(source);
  if (bad) {
    throw new FilterError(bad[0] === "\u0000" ? "NUL characters are not allowed" : "the filter is not well-formed Unicode", bad.index);
  }
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value = "", wildcardStart = false, wildcardEnd = false) => {
    tokens.push({
      kind,
      start,
      end,
      raw: source.slice(start, end),
      value,
      wildcardStart,
      wildcardEnd,
      spaceAfter: end < source.length && WHITESPACE.test(source[end]!),
    });
  };
  while (i < source.length) {
    const c = source[i]!;
    if (WHITESPACE.test(c)) {
      i++;
      continue;
    }
    const start = i;
    switch (c) {
      case "(":
      case ")":
      case ",":
      case ".":
      case ":":
      case "=":
        push(c, start, ++i);
        continue;
      case "<":
      case ">":
        if (source[i + 1] === "=") {
          push(`${c}=`, start, (i += 2));
        } else {
          push(c, start, ++i);
        }
        continue;
      case "!":
        if (source[i + 1] !== "=") throw new FilterError('"!" must be followed by "=" (for negation write NOT or -)', start);
        push("!=", start, (i += 2));
        continue;
      case '"':
      case "'":
        i = readString(source, start, push);
        continue;
      case "-":
        if (!isDigit(source[i + 1])) {
          push("-", start, ++i);
          continue;
        }
        break;
    }
    // text: numbers and timestamps first, then the rest of the run.
    let end = i;
    if (isDigit(c) || c === "-") {
      for (const pattern of [TIMESTAMP, NUMBER]) {
        pattern.lastIndex = i;
        if (pattern.exec(source)) {
          end = pattern.lastIndex;
          break;
        }
      }
    }
    while (end < source.length && !WHITESPACE.test(source[end]!) && !PUNCTUATION.has(source[end]!)) end++;
    const raw = source.slice(start, end);
    const wildcardStart = raw.startsWith("*");
    const wildcardEnd = raw.length > 1 && raw.endsWith("*");
    push("text", start, end, raw.slice(wildcardStart ? 1 : 0, wildcardEnd ? -1 : undefined), wildcardStart, wildcardEnd);
    i = end;
  }
  push("eof", source.length, source.length);
  return tokens;
}

const ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', "'": "'", n: "\n", r: "\r", t: "\t" };

/** Reads a quoted string starting at `start`; returns the offset after its closing quote. */
function readString(
  source: string,
  start: number,
  push: (kind: TokenKind, start: number, end: number, value: string, wildcardStart: boolean, wildcardEnd: boolean) => void,
): number {
  const quoteChar = source[start]!;
  let value = "";
  let wildcardStart = false;
  let wildcardEnd = false;
  let i = start + 1;
  for (;;) {
    if (i >= source.length) throw new FilterError(`unterminated string: no closing ${quoteChar}`, start);
    const c = source[i]!;
    if (c === quoteChar) break;
    if (c === "\\") {
      const e = source[i + 1];
      if (e === "*") {
        value += "*";
        i += 2;
      } else if (e !== undefined && e in ESCAPES) {
        value += ESCAPES[e];
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        throw new FilterError(
          `unknown escape ${quote(source.slice(i, i + 2))} in a string (known: \\\\ \\" \\' \\n \\r \\t \\* \\uXXXX)`,
          i,
        );
      }
    } else if (c === "*" && (i === start + 1 || source[i + 1] === quoteChar)) {
      // Unescaped at either end: a wildcard. A string of one star is a wildcard at the start only.
      if (i === start + 1) wildcardStart = true;
      else wildcardEnd = true;
      i++;
    } else {
      value += c;
      i++;
    }
  }
  if (UNREPRESENTABLE.test(value)) {
    throw new FilterError("a string's escapes make NUL or half a surrogate pair, which are not allowed", start);
  }
  push("string", start, i + 1, value, wildcardStart, wildcardEnd);
  return i + 1;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** How a token reads in a message. */
export function describeToken(token: Token): string {
  return token.kind === "eof" ? "the end of the filter" : quote(token.raw);
}
