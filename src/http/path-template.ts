/**
 * google.api.http path templates (google/api/http.proto):
 *
 *     Template = "/" Segments [ Verb ] ;
 *     Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;
 *     Verb     = ":" LITERAL ;
 *
 * `{var}` is `{var=*}`; variables do not nest. http.proto allows `**` only as the last segment (before the
 * verb); this parser also accepts literal segments after it (`/v1/{name=operations/**}/lro`, which Cloud
 * Search serves): at most one `**`, followed by literals only, so a path still matches unambiguously (the
 * trailing literals are matched from the end).
 * The REST server (routes) and the REST client (request paths) both read templates with this parser, so they
 * cannot disagree on the grammar. Parsing happens once per template; a bad one throws PathTemplateError.
 */

export type TemplateSegment =
  | { readonly kind: "literal"; readonly value: string }
  /** `*`: exactly one non-empty segment. */
  | { readonly kind: "wildcard" }
  /** `**`: zero or more segments (at most one per template, followed by literals only). */
  | { readonly kind: "multi" };

export interface TemplateVariable {
  /** The request field path, e.g. `["book", "name"]` for `{book.name=...}`. */
  readonly fieldPath: readonly string[];
  /** Index of the variable's first segment in `PathTemplate.segments`. */
  readonly start: number;
  /** Index after its last segment. */
  readonly end: number;
  /**
   * Whether the variable spans several segments (`{name=operations/**}`, `{var=foo/*}`, `{var=**}`):
   * those values keep `%2F` undecoded; single-segment values are fully decoded (http.proto).
   */
  readonly multiSegment: boolean;
}

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  /** The custom verb without its colon (`cancel` for `...:cancel`). */
  readonly verb: string | undefined;
  /** Whether the last segment is `**`. */
  readonly endsWithMulti: boolean;
  /** Index of the `**` segment in `segments`, or -1; every segment after it is a literal. */
  readonly multiAt: number;
}

export class PathTemplateError extends Error {
  override readonly name = "PathTemplateError";
  constructor(
    readonly template: string,
    reason: string,
  ) {
    super(`Invalid path template "${template}": ${reason}`);
  }
}

/** Characters that end a literal; a literal is anything else (non-empty). */
const LITERAL_STOP = new Set(["/", "{", "}", "=", "*", ":", "?", "#"]);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parsePathTemplate(template: string): PathTemplate {
  return new Parser(template).parse();
}

class Parser {
  private pos = 0;
  private readonly segments: TemplateSegment[] = [];
  private readonly variables: TemplateVariable[] = [];

  constructor(private readonly src: string) {}

  parse(): PathTemplate {
    const src = this.src;
    if (src[0] !== "/") this.fail("must start with \"/\"");
    this.pos = 1;
    this.parseSegments(false);
    let verb: string | undefined;
    if (src[this.pos] === ":") {
      this.pos++;
      verb = this.parseLiteral("verb");
    }
    if (this.pos !== src.length) this.fail(`unexpected "${src[this.pos]}" at offset ${this.pos}`);

    const multiAt = this.segments.findIndex((s) => s.kind === "multi");
    if (multiAt !== -1 && this.segments.slice(multiAt + 1).some((s) => s.kind !== "literal")) {
      this.fail("only literal segments may follow \"**\"");
    }
    const seen = new Set<string>();
    for (const v of this.variables) {
      const key = v.fieldPath.join(".");
      if (seen.has(key)) this.fail(`variable "${key}" appears more than once`);
      seen.add(key);
    }
    return {
      source: src,
      segments: this.segments,
      variables: this.variables,
      verb,
      endsWithMulti: multiAt !== -1 && multiAt === this.segments.length - 1,
      multiAt,
    };
  }

  private parseSegments(inVariable: boolean): void {
    for (;;) {
      this.parseSegment(inVariable);
      if (this.src[this.pos] !== "/") return;
      this.pos++;
    }
  }

  private parseSegment(inVariable: boolean): void {
    const src = this.src;
    const c = src[this.pos];
    if (c === "*") {
      if (src[this.pos + 1] === "*") {
        this.pos += 2;
        this.segments.push({ kind: "multi" });
      } else {
        this.pos += 1;
        this.segments.push({ kind: "wildcard" });
      }
      return;
    }
    if (c === "{") {
      if (inVariable) this.fail("variables cannot nest");
      this.parseVariable();
      return;
    }
    this.segments.push({ kind: "literal", value: this.parseLiteral("segment") });
  }

  private parseVariable(): void {
    const src = this.src;
    this.pos++; // "{"
    const close = src.indexOf("}", this.pos);
    if (close === -1) this.fail("unterminated \"{\"");
    let nameEnd = this.pos;
    while (nameEnd < close && src[nameEnd] !== "=") nameEnd++;
    const fieldPath = src.slice(this.pos, nameEnd).split(".");
    for (const ident of fieldPath) {
      if (!IDENT.test(ident)) this.fail(`bad field path "${src.slice(this.pos, nameEnd)}" in variable`);
    }
    this.pos = nameEnd;
    const start = this.segments.length;
    if (src[this.pos] === "=") {
      this.pos++;
      this.parseSegments(true);
    } else {
      this.segments.push({ kind: "wildcard" });
    }
    if (src[this.pos] !== "}") this.fail(`expected "}" at offset ${this.pos}`);
    this.pos++;
    const end = this.segments.length;
    let multiSegment = end - start > 1;
    for (let i = start; i < end; i++) if (this.segments[i]!.kind === "multi") multiSegment = true;
    this.variables.push({ fieldPath, start, end, multiSegment });
  }

  private parseLiteral(what: string): string {
    const src = this.src;
    const start = this.pos;
    while (this.pos < src.length && !LITERAL_STOP.has(src[this.pos]!)) this.pos++;
    if (this.pos === start) {
      this.fail(this.pos >= src.length ? `empty ${what} at the end` : `empty ${what} before "${src[this.pos]}" at offset ${this.pos}`);
    }
    return src.slice(start, this.pos);
  }

  private fail(reason: string): never {
    throw new PathTemplateError(this.src, reason);
  }
}
