import type { Endpoint } from "../../service/endpoint.js";
import { keepBounded } from "../../core/kept.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { acceptUrlSegment, fixedSegments, literalAt, matchParts, partIndex, sameLiteral, variableValues } from "../../http/path-match.js";
import { parsePathTemplate, type PathTemplate } from "../../http/path-template.js";
import { bindingOfRule } from "../../http/rule.js";
import { compileBinding, type RequestBinding } from "./transcode.js";

/**
 * The REST routes of a set of endpoints: every `google.api.http` rule and its `additional_bindings`,
 * compiled once.
 *
 * Matching a request path (split on "/"; a raw ":" in the last segment starts the verb; `%3A` does not):
 * - a route with a verb only matches a path ending in that verb, and wins over routes without one;
 * - otherwise the more specific route wins: comparing segment by segment from the left, a literal beats a
 *   wildcard (`*` and `**` rank the same); literals after a `**` match from the end of the path, so
 *   `GET /v1/{name=operations/**}/lro` wins over `GET /v1/{name=operations/**}` for `/v1/operations/a/lro`;
 * - then a route whose multi-segment variable would capture an encoded slash (`%2F`) loses to one that
 *   does not: a client that escaped the slash was filling a single-segment variable (gax's bundled
 *   `GET /v1/operations/{name}` vs `GET /v1/{name=operations/**}`);
 * - then a route whose `**` matches no segment loses (`/v1/operations` is ListOperations, not
 *   GetOperation of "operations");
 * - then declaration order: endpoints in the order given, each endpoint's primary rule before its
 *   additional bindings.
 */
export interface Route {
  /** Upper-case HTTP method, or "*" (custom pattern with kind "*"). */
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly endpoint: Endpoint;
  readonly binding: RequestBinding;
  /** Declaration order, the last tie-break. */
  readonly order: number;
  /** Number of segments matched one-to-one (all but a `**`). */
  readonly fixed: number;
}

export interface RouteMatch {
  readonly route: Route;
  /** Decoded template variable values, in template order. */
  readonly values: readonly string[];
}

export type RouteLookup =
  | { readonly kind: "match"; readonly match: RouteMatch }
  | { readonly kind: "unknown-path" }
  | { readonly kind: "wrong-method"; readonly allowed: readonly string[] };

const UNKNOWN_PATH: RouteLookup = { kind: "unknown-path" };

/** Matched paths kept (RECENT_PATHS), and the longest path kept: a longer one is matched anew each time. */
const RECENT_PATHS = 1024;
const MAX_RECENT_PATH = 256;

export class Router {
  readonly routes: readonly Route[];
  private readonly byMethod = new Map<string, Route[]>();
  private readonly anyMethod: Route[] = [];
  /**
   * The last matches, by method and path: a client polling an operation asks for the same path again and
   * again, and splitting, matching, ranking and decoding it was a twentieth of a REST GetOperation's CPU
   * (bench rpc --profile). Only matches are kept (a match is the same for as long as the routes are),
   * at most RECENT_PATHS of them, the oldest dropped first.
   */
  private readonly recent = new Map<string, RouteLookup>();

  /** Throws (PathTemplateError or Error) when a rule is invalid. */
  constructor(endpoints: readonly Endpoint[]) {
    const routes: Route[] = [];
    for (const endpoint of endpoints) {
      endpoint.httpRules.forEach((rule, i) => {
        const where = `${endpoint.method.parent.typeName}.${endpoint.method.name} http rule #${i}`;
        routes.push(compileRoute(endpoint, rule, routes.length, where));
        for (const extra of rule.additionalBindings) {
          if (extra.additionalBindings.length > 0) {
            throw new Error(`${where}: additional_bindings must not nest`);
          }
          routes.push(compileRoute(endpoint, extra, routes.length, where));
        }
      });
    }
    this.routes = routes;
    for (const r of routes) if (r.httpMethod === "*") this.anyMethod.push(r);
    for (const r of routes) {
      if (r.httpMethod === "*") continue;
      let list = this.byMethod.get(r.httpMethod);
      if (list === undefined) {
        list = [...this.anyMethod];
        this.byMethod.set(r.httpMethod, list);
      }
      list.push(r);
    }
    for (const list of this.byMethod.values()) list.sort((a, b) => a.order - b.order);
  }

  /** Finds the route for a request. Throws RpcError (400) for a path with malformed percent-encoding. */
  lookup(method: string, rawPath: string): RouteLookup {
    const key = rawPath.length <= MAX_RECENT_PATH ? `${method} ${rawPath}` : undefined;
    const kept = key === undefined ? undefined : this.recent.get(key);
    if (kept !== undefined) return kept;
    const found = this.match(method, rawPath);
    if (key !== undefined && found.kind === "match") keepBounded(this.recent, key, found, RECENT_PATHS);
    return found;
  }

  private match(method: string, rawPath: string): RouteLookup {
    if (rawPath.charCodeAt(0) !== 47 /* / */) return UNKNOWN_PATH;
    const { segs, verb, verbSegs } = splitPath(rawPath);
    const best = bestMatch(this.byMethod.get(method) ?? this.anyMethod, segs, verb, verbSegs);
    if (best !== undefined) {
      return { kind: "match", match: { route: best.route, values: variableValues(best.route.template, best.segs) } };
    }
    const allowed = this.methodsAt(rawPath);
    return allowed.length > 0 ? { kind: "wrong-method", allowed } : UNKNOWN_PATH;
  }

  /** The HTTP methods bound at a path (a CORS preflight's Allow-Methods); none for an unknown path. */
  methodsAt(rawPath: string): string[] {
    if (rawPath.charCodeAt(0) !== 47 /* / */) return [];
    const { segs, verb, verbSegs } = splitPath(rawPath);
    const allowed = new Set<string>();
    for (const r of this.routes) {
      if (r.httpMethod === "*") continue;
      if (bestMatch([r], segs, verb, verbSegs) !== undefined) allowed.add(r.httpMethod);
    }
    return [...allowed];
  }
}

function compileRoute(endpoint: Endpoint, rule: HttpRule, order: number, where: string): Route {
  const bound = bindingOfRule(rule);
  if (bound === undefined) throw new Error(`${where}: no pattern (get/put/post/delete/patch/custom)`);
  if (bound.method === "") throw new Error(`${where}: custom pattern without a kind`);
  const template = parsePathTemplate(bound.path);
  const binding = compileBinding(endpoint.method, rule, template);
  return { httpMethod: bound.method, template, endpoint, binding, order, fixed: fixedSegments(template) };
}

// ---- Matching ----

interface Candidate {
  readonly route: Route;
  readonly segs: readonly string[];
}

function bestMatch(
  routes: readonly Route[],
  segs: readonly string[],
  verb: string | undefined,
  verbSegs: readonly string[] | undefined,
): Candidate | undefined {
  let best: Candidate | undefined;
  for (const route of routes) {
    let s: readonly string[];
    if (route.template.verb !== undefined) {
      if (verb === undefined || !sameLiteral(verb, route.template.verb)) continue;
      s = verbSegs!;
    } else {
      s = segs;
    }
    if (!matches(route, s)) continue;
    const c = { route, segs: s };
    if (best === undefined || better(c, best)) best = c;
  }
  return best;
}

function matches(route: Route, segs: readonly string[]): boolean {
  return matchParts(route.template, segs, route.fixed, acceptUrlSegment);
}

/** Whether candidate a should be preferred over b (see the Router comment for the order). */
function better(a: Candidate, b: Candidate): boolean {
  const av = a.route.template.verb !== undefined;
  const bv = b.route.template.verb !== undefined;
  if (av !== bv) return av;
  // Same verb-ness, so the same segments.
  const n = a.segs.length;
  for (let i = 0; i < n; i++) {
    const al = literalAt(a.route.template, i, n);
    const bl = literalAt(b.route.template, i, n);
    if (al !== bl) return al;
  }
  const as = multiCapturesEncodedSlash(a);
  const bs = multiCapturesEncodedSlash(b);
  if (as !== bs) return bs;
  const ae = a.route.template.multiAt !== -1 && a.segs.length === a.route.fixed;
  const be = b.route.template.multiAt !== -1 && b.segs.length === b.route.fixed;
  if (ae !== be) return be;
  return a.route.order < b.route.order;
}

const ENCODED_SLASH = /%2f/i;

function multiCapturesEncodedSlash(c: Candidate): boolean {
  for (const v of c.route.template.variables) {
    if (!v.multiSegment) continue;
    const end = partIndex(c.route.template, v.end, c.segs.length);
    for (let i = partIndex(c.route.template, v.start, c.segs.length); i < end; i++) if (ENCODED_SLASH.test(c.segs[i]!)) return true;
  }
  return false;
}

/**
 * A path's segments, and, when its last segment has a `:verb`, the verb and the segments without it (a
 * route may bind either reading: `{name=operations/**}` takes `abc:cancel` whole).
 */
function splitPath(rawPath: string): { segs: string[]; verb: string | undefined; verbSegs: string[] | undefined } {
  const segs = rawPath.slice(1).split("/");
  const last = segs[segs.length - 1]!;
  const colon = last.lastIndexOf(":");
  if (colon === -1) return { segs, verb: undefined, verbSegs: undefined };
  const verbSegs = segs.slice(0, -1);
  verbSegs.push(last.slice(0, colon));
  return { segs, verb: last.slice(colon + 1), verbSegs };
}
