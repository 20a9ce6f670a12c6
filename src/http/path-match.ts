import { malformedRequest } from "../core/errors.js";
import type { PathTemplate, TemplateSegment, TemplateVariable } from "./path-template.js";

/**
 * Paths against google.api.http templates, both ways: the REST server matches a request path and binds
 * its variables; the REST client checks a field's value against its variable and expands the template.
 * Both sides count segments the same way, so a path the client builds is one the server matches.
 */

/** Segments as matching sees them: a whole template, or the segments of one of its variables. */
export interface SegmentPattern {
  readonly segments: readonly TemplateSegment[];
  /** Index of the `**` in `segments`, or -1; only literals follow it. */
  readonly multiAt: number;
}

/** Whether one part of a path is accepted where a segment of the pattern stands. */
export type AcceptPart = (part: string, segment: TemplateSegment) => boolean;

/** The number of segments a pattern matches one-to-one (all but its `**`). */
export function fixedSegments(pattern: SegmentPattern): number {
  return pattern.multiAt === -1 ? pattern.segments.length : pattern.segments.length - 1;
}

/**
 * The index in a path of `n` parts of pattern segment `t` (or of the end after it): the same before the
 * `**`, shifted by what the `**` took after it (the literals after `**` match from the end).
 */
export function partIndex(pattern: SegmentPattern, t: number, n: number): number {
  const { multiAt, segments } = pattern;
  return multiAt !== -1 && t > multiAt ? t + n - segments.length : t;
}

/** Whether part `i` of a path of `n` parts is matched by a literal of the pattern. */
export function literalAt(pattern: SegmentPattern, i: number, n: number): boolean {
  const { multiAt, segments } = pattern;
  if (multiAt === -1 || i < multiAt) return segments[i]!.kind === "literal";
  return i >= partIndex(pattern, multiAt + 1, n); // after the `**`: literals only
}

/**
 * Whether the parts match the pattern: as many parts as segments (any number, at least none, for a `**`),
 * each accepted where it stands; the parts a `**` takes are passed to `accept` with the `**` segment.
 */
export function matchParts(pattern: SegmentPattern, parts: readonly string[], fixed: number, accept: AcceptPart): boolean {
  const { segments, multiAt } = pattern;
  const n = parts.length;
  if (multiAt === -1 ? n !== fixed : n < fixed) return false;
  for (let t = 0; t < segments.length; t++) {
    if (t === multiAt) continue;
    if (!accept(parts[partIndex(pattern, t, n)]!, segments[t]!)) return false;
  }
  if (multiAt !== -1) {
    const multi = segments[multiAt]!;
    const end = partIndex(pattern, multiAt + 1, n);
    for (let i = multiAt; i < end; i++) if (!accept(parts[i]!, multi)) return false;
  }
  return true;
}

// ---- The server side: a request path's parts, percent-encoded as they arrived. ----

/** A raw URL segment where a template segment stands: a literal may be percent-encoded; no segment is empty. */
export const acceptUrlSegment: AcceptPart = (raw, segment) =>
  segment.kind === "literal" ? sameLiteral(raw, segment.value) : raw !== "";

/** A raw URL segment against a template literal; the segment may percent-encode characters. */
export function sameLiteral(raw: string, literal: string): boolean {
  if (raw === literal) return true;
  if (raw.indexOf("%") === -1) return false;
  try {
    return decodeURIComponent(raw) === literal;
  } catch {
    return false;
  }
}

/**
 * The decoded values of the template's variables, in template order, from the URL segments it matched.
 * Throws RpcError (400) for malformed percent-encoding.
 */
export function variableValues(template: PathTemplate, segs: readonly string[]): string[] {
  const vars = template.variables;
  const values: string[] = new Array<string>(vars.length);
  for (let k = 0; k < vars.length; k++) {
    const v = vars[k]!;
    const start = partIndex(template, v.start, segs.length);
    const end = partIndex(template, v.end, segs.length);
    const raw = end - start === 1 ? segs[start]! : segs.slice(start, end).join("/");
    values[k] = v.multiSegment ? decodeKeepingSlashes(raw) : decodeAll(raw);
  }
  return values;
}

/** Single-segment variables: every %XX decoded, `%2F` included. */
function decodeAll(raw: string): string {
  if (raw.indexOf("%") === -1) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw malformedRequest(`Malformed percent-encoding in the URL path: "${raw}".`);
  }
}

/** Multi-segment variables: every %XX decoded except `%2F`/`%2f`, left as they are (http.proto). */
function decodeKeepingSlashes(raw: string): string {
  if (raw.indexOf("%") === -1) return raw;
  const parts = raw.split(/(%2[fF])/);
  try {
    for (let i = 0; i < parts.length; i += 2) parts[i] = decodeURIComponent(parts[i]!);
  } catch {
    throw malformedRequest(`Malformed percent-encoding in the URL path: "${raw}".`);
  }
  return parts.join("");
}

// ---- The client side: a field's value, not yet encoded. ----

/**
 * Whether a field's value fits its variable (`operations/a/b` fits `{name=operations/**}`), its `/`-separated
 * parts compared to the literals exactly; a `*` takes one non-empty part, a `**` whatever parts remain.
 */
export function valueFits(template: PathTemplate, variable: TemplateVariable, value: string): boolean {
  const segments = template.segments.slice(variable.start, variable.end);
  const pattern: SegmentPattern = { segments, multiAt: segments.findIndex((s) => s.kind === "multi") };
  return matchParts(pattern, value.split("/"), fixedSegments(pattern), acceptValuePart);
}

const acceptValuePart: AcceptPart = (part, segment) =>
  segment.kind === "literal" ? part === segment.value : segment.kind === "multi" || part !== "";

/**
 * The path of a template with its variables replaced by `values` (in template order), percent-encoded as
 * http.proto asks of clients (a multi-segment variable keeps its `/`), then `:verb`. Undefined when the
 * template has a wildcard outside any variable, which no value fills.
 */
export function expandPath(template: PathTemplate, values: readonly string[]): string | undefined {
  let path = "";
  for (let i = 0; i < template.segments.length; ) {
    const variableIndex = template.variables.findIndex((v) => v.start === i);
    if (variableIndex !== -1) {
      const variable = template.variables[variableIndex]!;
      path += "/" + percentEncode(values[variableIndex]!, variable.multiSegment);
      i = variable.end;
      continue;
    }
    const segment = template.segments[i]!;
    if (segment.kind !== "literal") return undefined;
    path += "/" + segment.value;
    i++;
  }
  if (template.verb !== undefined) path += ":" + template.verb;
  return path;
}

/** RFC 3986 percent-encoding of all but `[-_.~0-9a-zA-Z]` (and `/` when `keepSlash`), as http.proto asks of clients. */
export function percentEncode(value: string, keepSlash: boolean): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    if (/[-_.~0-9a-zA-Z]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
