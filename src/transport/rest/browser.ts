import type { IncomingMessage, ServerResponse } from "node:http";
import { DEFAULTS } from "../../core/defaults.js";

/**
 * What keeps web pages out of the REST port (docs/security.md, "Browsers"): a page the user opens may send
 * requests to any address, localhost included; these checks make sure it cannot act through them.
 *
 * - Host allow-list: a DNS-rebinding page reaches the server under the page's own name; a Host this server
 *   does not answer for is refused before anything else.
 * - Cross-origin protection: a browser's request that changes state (any method but GET, HEAD, OPTIONS)
 *   from another origin is refused unless that origin is allowed (CORS). Browsers mark their requests
 *   (`Sec-Fetch-Site`, `Origin`); requests without those marks (curl, client libraries) are not browsers'.
 * - CORS: off unless origins are named; then those origins, and only them, get `Access-Control-Allow-*`.
 * - JSON bodies only (server.ts): a form or `text/plain` POST, which browsers send without preflight, is 415.
 */
export interface BrowserOptions {
  /**
   * Host header values the REST server answers for, beside the defaults: `name` (any port), `name:port`,
   * `.example.com` (that domain and its subdomains), `*` (any host). Defaults: the bound address and, on a
   * loopback address, `localhost`, `127.0.0.1` and `[::1]` (any port); on `0.0.0.0`/`::`, any host unless
   * names are given here.
   */
  allowedHosts?: readonly string[];
  /**
   * Origins (`https://app.example`, scheme://host[:port]) whose pages may call the REST API (CORS).
   * @default none: no `Access-Control-Allow-*` header is ever sent
   */
  corsOrigins?: readonly string[];
}

/** The request headers a preflight may ask for: the body's type and the credentials Google's clients send. */
const ALLOWED_HEADERS = "content-type, authorization, x-goog-api-key, x-goog-api-client, x-goog-request-params, x-goog-user-project";
/** Response headers a page may read beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS = "www-authenticate";

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

interface HostPattern {
  readonly name: string;
  /** undefined: any port. */
  readonly port: string | undefined;
  /** `.example.com`: the domain and its subdomains. */
  readonly suffix: boolean;
}

export class BrowserPolicy {
  private readonly anyHost: boolean;
  private readonly hosts: readonly HostPattern[];
  private readonly origins: ReadonlySet<string>;
  private readonly maxAge = String(Math.floor(DEFAULTS.corsMaxAgeMs.value / 1000));

  /** `boundHost`: the address the server listens on (undefined: unknown, treated as every address). Throws on a malformed entry. */
  constructor(options: BrowserOptions, boundHost: string | undefined) {
    const configured = options.allowedHosts ?? [];
    const wildcard = boundHost === undefined || boundHost === "" || boundHost === "0.0.0.0" || boundHost === "::" || boundHost === "[::]";
    this.anyHost = configured.includes("*") || (wildcard && configured.length === 0);
    const names = [...LOOPBACK_NAMES, ...(wildcard ? [] : [bracketed(boundHost.toLowerCase())])];
    this.hosts = [...names.map((name) => ({ name, port: undefined, suffix: false })), ...configured.filter((h) => h !== "*").map(hostPattern)];
    this.origins = new Set((options.corsOrigins ?? []).map(checkedOrigin));
  }

  /** Whether the request's Host is one this server answers for. */
  hostAllowed(host: string | undefined): boolean {
    if (this.anyHost) return true;
    if (host === undefined) return false;
    const { name, port } = splitHost(host);
    return this.hosts.some(
      (p) => (p.port === undefined || p.port === port) && (p.suffix ? name === p.name || name.endsWith(`.${p.name}`) : name === p.name),
    );
  }

  originAllowed(origin: string): boolean {
    return this.origins.has(origin.toLowerCase());
  }

  /** With CORS on: `Vary: Origin` on every response, and the allow headers for an allowed origin. */
  corsHeaders(req: IncomingMessage, res: ServerResponse): void {
    if (this.origins.size === 0) return;
    res.setHeader("vary", "Origin");
    const origin = req.headers.origin;
    if (origin === undefined || !this.originAllowed(origin)) return;
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  }

  /** The headers of a successful preflight (204), beside corsHeaders'. */
  preflightHeaders(res: ServerResponse, methods: readonly string[]): void {
    res.setHeader("access-control-allow-methods", methods.join(", "));
    res.setHeader("access-control-allow-headers", ALLOWED_HEADERS);
    res.setHeader("access-control-max-age", this.maxAge);
  }

  /**
   * The origin of a browser's state-changing request from another origin not allowed, if it is one (the
   * request is then refused); undefined otherwise. As Go's net/http CrossOriginProtection: `Sec-Fetch-Site`
   * when the browser sends it, else `Origin` against the Host.
   */
  crossOriginRefused(req: IncomingMessage): string | undefined {
    if (SAFE_METHODS.has(req.method ?? "GET")) return undefined;
    const origin = req.headers.origin;
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined) {
      if (site === "same-origin" || site === "none") return undefined;
    } else {
      if (origin === undefined) return undefined;
      if (sameOrigin(origin, req.headers.host)) return undefined;
    }
    if (origin !== undefined && this.originAllowed(origin)) return undefined;
    return origin ?? `(Sec-Fetch-Site: ${site ?? ""})`;
  }
}

/**
 * The host a request is for: the authority of a request target in absolute form (RFC 9112 §3.2.2: it
 * wins over the Host header, which a proxy may have left as it was), else the Host header.
 */
export function requestHost(req: IncomingMessage): string | undefined {
  const target = req.url ?? "";
  if (target.charCodeAt(0) === 47 /* / */) return req.headers.host;
  const match = /^https?:\/\/([^/?#]*)/i.exec(target);
  return match ? match[1]!.replace(/^[^@]*@/, "") : req.headers.host;
}

/** A CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === "OPTIONS" && req.headers.origin !== undefined && req.headers["access-control-request-method"] !== undefined;
}

/**
 * Whether a Content-Type says JSON: `application/json` or `application/*+json`, any case, with parameters;
 * a `charset` parameter must be UTF-8 (the only encoding read).
 */
export function isJsonMediaType(contentType: string): boolean {
  const [type = "", ...params] = contentType.split(";");
  const essence = type.trim().toLowerCase();
  if (essence !== "application/json" && !/^application\/[!#$&^_.+\-a-z0-9]+\+json$/.test(essence)) return false;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") return false;
  }
  return true;
}

/** Whether the request carries body bytes (a Content-Length above 0, or a chunked body). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (cl !== undefined && cl !== "0");
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/** `Host: Example.COM.:8080` → name `example.com`, port `8080`; `[::1]:80` → `[::1]`, `80`. */
function splitHost(host: string): { name: string; port: string | undefined } {
  const h = host.trim().toLowerCase();
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(h);
  if (!m) return { name: h, port: undefined };
  const name = m[1]!.endsWith(".") ? m[1]!.slice(0, -1) : m[1]!;
  return { name, port: m[2] === undefined || m[2] === "" ? undefined : m[2] };
}

function hostPattern(entry: string): HostPattern {
  const suffix = entry.startsWith(".");
  const { name, port } = splitHost(suffix ? entry.slice(1) : entry);
  if (name === "" || /[/\s@]/.test(name)) throw new Error(`allowed host ${JSON.stringify(entry)}: not a host name (name, name:port, .domain or *)`);
  return { name: bracketed(name), port, suffix };
}

/** An IPv6 address as a Host header writes it: in brackets. */
function bracketed(name: string): string {
  return name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
}

function checkedOrigin(origin: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  const normal = origin.toLowerCase().replace(/\/$/, "");
  if (parsed === undefined || parsed.origin === "null" || parsed.origin !== normal) {
    throw new Error(`CORS origin ${JSON.stringify(origin)}: not an origin (scheme://host[:port], e.g. https://app.example)`);
  }
  return normal;
}
