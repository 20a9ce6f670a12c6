import { FilterError, quote } from "./error.js";
import { describeToken, tokenize, type Token } from "./lexer.js";
import type { FilterLimits } from "./limits.js";

/**
 * The AIP-160 grammar (aip.dev/160, ebnf-filtering.txt), parsed by recursive descent into an untyped tree
 * with source offsets. One function per rule:
 *
 *   filter      : [expression]
 *   expression  : sequence {WS AND WS sequence}
 *   sequence    : factor {WS factor}                 (implicit AND)
 *   factor      : term {WS OR WS term}               (OR binds tighter than AND)
 *   term        : [NOT WS | MINUS] simple
 *   simple      : restriction | composite
 *   restriction : comparable [comparator arg]
 *   comparable  : member | function
 *   member      : value {DOT field}
 *   function    : name {DOT name} LPAREN [arg {COMMA arg}] RPAREN
 *   composite   : LPAREN expression RPAREN
 *   arg         : comparable | composite
 *
 * Leniencies, all unambiguous: `NOT(` needs no space; whitespace around comparators is optional (as the
 * AIP says); `-` may be followed by whitespace.
 */
export type Node = AndNode | OrNode | NotNode | RestrictionNode;

export interface AndNode {
  readonly kind: "and";
  readonly operands: readonly Node[];
  readonly start: number;
}

export interface OrNode {
  readonly kind: "or";
  readonly operands: readonly Node[];
  readonly start: number;
}

export interface NotNode {
  readonly kind: "not";
  readonly operand: Node;
  readonly start: number;
}

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":";

export interface RestrictionNode {
  readonly kind: "restriction";
  readonly comparable: Comparable;
  /** Absent for a bare value (a "global restriction"). */
  readonly comparator: { readonly op: Comparator; readonly start: number } | undefined;
  readonly arg: Arg | undefined;
  readonly start: number;
}

export type Comparable = MemberNode | FunctionNode;

/** `a.b.c`: the segments are text or string tokens. */
export interface MemberNode {
  readonly kind: "member";
  readonly segments: readonly Token[];
  readonly start: number;
}

export interface FunctionNode {
  readonly kind: "function";
  readonly name: string;
  readonly args: readonly Arg[];
  readonly start: number;
}

export type Arg = Comparable | CompositeNode;

export interface CompositeNode {
  readonly kind: "composite";
  readonly expression: Node;
  readonly start: number;
}

const COMPARATORS: ReadonlySet<string> = new Set(["=", "!=", "<", "<=", ">", ">=", ":"]);
const KEYWORDS: ReadonlySet<string> = new Set(["AND", "OR", "NOT"]);

/** Parses a filter; undefined for an empty (or all-whitespace) one. Throws FilterError. */
export function parse(source: string, limits: FilterLimits): Node | undefined {
  if (source.length > limits.maxLength) {
    throw new FilterError(`is ${source.length} characters long; the limit is ${limits.maxLength}`, undefined);
  }
  return new Parser(tokenize(source), limits).filter();
}

class Parser {
  private i = 0;
  private depth = 0;
  private restrictions = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly limits: FilterLimits,
  ) {}

  filter(): Node | undefined {
    if (this.peek().kind === "eof") return undefined;
    const node = this.expression();
    const next = this.peek();
    if (next.kind === ")") throw new FilterError('unbalanced ")": no "(" to close', next.start);
    if (next.kind !== "eof") throw this.unexpected(next);
    return node;
  }

  private expression(): Node {
    const start = this.peek().start;
    const operands = [this.sequence()];
    while (this.isKeyword(this.peek(), "AND")) {
      this.next();
      operands.push(this.sequence());
    }
    return operands.length === 1 ? operands[0]! : { kind: "and", operands, start };
  }

  private sequence(): Node {
    const start = this.peek().start;
    const operands = [this.factor()];
    while (this.startsFactor(this.peek())) operands.push(this.factor());
    return operands.length === 1 ? operands[0]! : { kind: "and", operands, start };
  }

  private factor(): Node {
    const start = this.peek().start;
    const operands = [this.term()];
    while (this.isKeyword(this.peek(), "OR")) {
      this.next();
      operands.push(this.term());
    }
    return operands.length === 1 ? operands[0]! : { kind: "or", operands, start };
  }

  private term(): Node {
    const token = this.peek();
    if (this.isKeyword(token, "NOT")) {
      this.next();
      if (this.peek().kind === "eof") throw new FilterError("NOT has nothing after it to negate", token.start);
      if (!token.spaceAfter && this.peek().kind !== "(") {
        throw new FilterError("NOT must be followed by whitespace (or use - directly before what it negates)", token.start);
      }
      return { kind: "not", operand: this.simple("NOT"), start: token.start };
    }
    if (token.kind === "-") {
      this.next();
      if (this.peek().kind === "eof") throw new FilterError("- has nothing after it to negate", token.start);
      return { kind: "not", operand: this.simple("-"), start: token.start };
    }
    return this.simple(undefined);
  }

  private simple(negation: string | undefined): Node {
    const token = this.peek();
    if (token.kind === "(") return this.composite().expression;
    if (negation !== undefined && (this.isKeyword(token, "NOT") || token.kind === "-")) {
      throw new FilterError(`${negation} cannot negate a negation directly; use parentheses: ${negation} (NOT …)`, token.start);
    }
    return this.restriction();
  }

  private composite(): CompositeNode {
    const open = this.next();
    if (++this.depth > this.limits.maxDepth) {
      throw new FilterError(`parentheses nest deeper than the limit of ${this.limits.maxDepth}`, open.start);
    }
    if (this.peek().kind === ")") throw new FilterError("empty parentheses", open.start);
    const expression = this.expression();
    const close = this.peek();
    if (close.kind !== ")") {
      if (close.kind === "eof") throw new FilterError('unbalanced "(": no ")" closes it', open.start);
      throw this.unexpected(close);
    }
    this.next();
    this.depth--;
    return { kind: "composite", expression, start: open.start };
  }

  private restriction(): RestrictionNode {
    const start = this.peek().start;
    if (++this.restrictions > this.limits.maxRestrictions) {
      throw new FilterError(`has more than the limit of ${this.limits.maxRestrictions} restrictions (comparisons and : tests)`, start);
    }
    const comparable = this.comparable();
    const token = this.peek();
    if (!COMPARATORS.has(token.kind)) return { kind: "restriction", comparable, comparator: undefined, arg: undefined, start };
    this.next();
    const comparator = { op: token.kind as Comparator, start: token.start };
    const argToken = this.peek();
    if (argToken.kind === "eof") throw new FilterError(`${quote(token.raw)} has nothing on its right`, token.start);
    const arg: Arg = argToken.kind === "(" ? this.composite() : this.comparable();
    return { kind: "restriction", comparable, comparator, arg, start };
  }

  private comparable(): Comparable {
    const first = this.peek();
    if (!this.isValue(first)) {
      if (first.kind === "eof") throw new FilterError("the filter ends where a field or value was expected", first.start);
      throw this.unexpected(first);
    }
    this.next();
    const segments: Token[] = [first];
    while (this.peek().kind === ".") {
      const dot = this.next();
      const field = this.peek();
      // A field may be a keyword (`metadata.OR`), not a value only.
      if (field.kind !== "text" && field.kind !== "string") {
        throw new FilterError(`a field name must follow "." (found ${describeToken(field)})`, dot.start);
      }
      segments.push(this.next());
    }
    if (this.peek().kind === "(") return this.functionCall(segments);
    return { kind: "member", segments, start: first.start };
  }

  private functionCall(segments: readonly Token[]): FunctionNode {
    const open = this.next();
    if (++this.depth > this.limits.maxDepth) {
      throw new FilterError(`parentheses nest deeper than the limit of ${this.limits.maxDepth}`, open.start);
    }
    const args: Arg[] = [];
    if (this.peek().kind !== ")") {
      for (;;) {
        args.push(this.peek().kind === "(" ? this.composite() : this.comparable());
        if (this.peek().kind !== ",") break;
        this.next();
      }
    }
    const close = this.peek();
    if (close.kind !== ")") {
      if (close.kind === "eof") throw new FilterError('unbalanced "(": no ")" closes it', open.start);
      throw this.unexpected(close);
    }
    this.next();
    this.depth--;
    return { kind: "function", name: segments.map((s) => s.raw).join("."), args, start: segments[0]!.start };
  }

  /** A token that can begin a factor of a sequence (implicit AND). */
  private startsFactor(token: Token): boolean {
    if (token.kind === "(" || token.kind === "-" || token.kind === "string") return true;
    return token.kind === "text" && !this.isKeyword(token, "AND") && !this.isKeyword(token, "OR");
  }

  /** A value: text that is not a keyword, or a string. */
  private isValue(token: Token): boolean {
    return token.kind === "string" || (token.kind === "text" && !KEYWORDS.has(token.raw));
  }

  private isKeyword(token: Token, keyword: "AND" | "OR" | "NOT"): boolean {
    return token.kind === "text" && token.raw === keyword;
  }

  private unexpected(token: Token): FilterError {
    if (KEYWORDS.has(token.raw) && token.kind === "text") {
      return new FilterError(`${token.raw} is out of place: it needs something on both sides (or, for NOT, after it)`, token.start);
    }
    if (token.kind === ")") return new FilterError('unbalanced ")": no "(" to close', token.start);
    if (COMPARATORS.has(token.kind)) {
      return new FilterError(`unexpected ${describeToken(token)}: a comparison needs a field on its left`, token.start);
    }
    return new FilterError(`unexpected ${describeToken(token)}`, token.start);
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const token = this.tokens[this.i]!;
    if (token.kind !== "eof") this.i++;
    return token;
  }
}
