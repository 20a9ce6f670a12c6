import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Message, Registry } from "@bufbuild/protobuf";
import { DEFAULTS } from "../../core/defaults.js";
import {
  hostNotAllowed,
  internalError,
  methodNotBound,
  originNotAllowed,
  Reason,
  RpcError,
  unknownPath,
  unsupportedMediaType,
} from "../../core/errors.js";
import type { LogFields, Logger } from "../../core/logger.js";
import { REQUEST_ID_HEADER, requestIdOf } from "../../service/request-id.js";
import type { Endpoint } from "../../service/endpoint.js";
import type { TlsOptions } from "../tls.js";
import { callContext } from "./context.js";
import { closesAfterRefusal, readBody } from "./body.js";
import { contentCodingOf, type ContentCoding } from "./encoding.js";
import { BrowserPolicy, hasBody, isJsonMediaType, isPreflight, requestHost, type BrowserOptions } from "./browser.js";
import { answerAtConnectionLevel } from "./connection.js";
import { renderError } from "./errors.js";
import { DEFAULT_FORMAT, ResponseEncoder, type ResponseFormat } from "./json.js";
import { parseQuery } from "./query.js";
import { Router } from "./router.js";
import { buildRequest } from "./transcode.js";
import { EventStreams } from "./events.js";

/**
 * Pages served beside the API under a path of their own (the web dashboard): requests for `path` or below
 * it go to `handle`, after the Host check and with the same `nosniff`, and never reach the routes.
 */
export interface RestMount {
  /** `/ui`: the mount answers `/ui` and everything under `/ui/`. */
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
}

/** A REST request listener; `closeStreams` ends its open event streams (the server is closing). */
export type RestHandler = ((req: IncomingMessage, res: ServerResponse) => void) & { closeStreams(): void };

export interface RestServerOptions extends BrowserOptions {
  /** The RPCs to serve; each endpoint's `httpRules` (and their additional bindings) become routes. */
  endpoints: readonly Endpoint[];
  /** Resolves `Any` (`@type`) in request and response JSON, and in error details. */
  registry: Registry;
  /** ErrorInfo domain of error responses. */
  errorDomain: string;
  /** Largest accepted request body. @default DEFAULTS.maxBodyBytes (1 MiB) */
  maxBodyBytes?: number;
  /**
   * Most of an oversized body read and discarded, so that the client, still sending, gets its 413 rather
   * than a reset; past it the connection is closed. @default DEFAULTS.maxDrainBytes (64 MiB)
   */
  maxDrainBytes?: number;
  /** Where failures that are bugs (not the client's) are reported. @default console.error */
  log?: Logger;
  /** Pages served beside the API (the web dashboard). @default none */
  mounts?: readonly RestMount[];
  /** GET routes answered before the API's, by exact path (health probes, /metrics). @default none */
  plainRoutes?: readonly PlainRoute[];
}

/** A GET (or HEAD) route outside the API: no credentials, no CORS; `anyHost` skips the Host allow-list. */
export interface PlainRoute {
  path: string;
  /** Answered whatever the Host header names (load balancers probe by IP address). */
  anyHost: boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** Where and how startRestServer listens. */
export interface RestListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * Serve HTTPS; with `clientCa`, every connection must present a client certificate signed by it, and
   * calls carry that certificate in `ctx.credentials.certificate`. @default plain HTTP
   */
  tls?: TlsOptions;
  /** Largest request line and headers (node:http's `maxHeaderSize`); larger is 431. @default DEFAULTS.maxHeaderBytes (16 KiB) */
  maxHeaderBytes?: number;
}

export interface RestServer {
  /** An https.Server when served over TLS. */
  server: http.Server;
  port: number;
  url: string;
  /** Stops accepting connections and resolves once in-flight requests are answered. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES: number = DEFAULTS.maxBodyBytes.value;

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * A node:http request listener serving the endpoints' google.api.http bindings with proto3 JSON.
 * Routes are compiled here, once: an invalid rule throws now rather than at the first request.
 */
export function createRestHandler(options: RestServerOptions & { host?: string }): RestHandler {
  const router = new Router(options.endpoints);
  const streams = new EventStreams();
  const mounts = options.mounts ?? [];
  // Given the address it listens on (startRestServer does), the default Host allow-list is that address.
  const browser = new BrowserPolicy(options, options.host);
  const registry = options.registry;
  const responses = new ResponseEncoder(registry);
  const domain = options.errorDomain;
  const limits = {
    limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    drainLimit: options.maxDrainBytes ?? DEFAULTS.maxDrainBytes.value,
  };
  const log: Logger = options.log ?? ((message, err) => console.error(`longrun rest: ${message}`, err ?? ""));
  const plainRoutes = new Map((options.plainRoutes ?? []).map((r) => [r.path, r]));

  const fail = (req: IncomingMessage, res: ServerResponse, err: RpcError, format: ResponseFormat, requestId: string): void => {
    if (res.headersSent || res.destroyed) return;
    identify(res, requestId);
    let rendered;
    try {
      rendered = renderError(err, domain, registry, format.pretty, log);
    } catch (e) {
      log("cannot render an error response", e);
      rendered = renderError(internalError(), domain, registry, format.pretty, log);
    }
    const headers: http.OutgoingHttpHeaders = {
      "content-type": JSON_CONTENT_TYPE,
      "content-length": Buffer.byteLength(rendered.body),
    };
    // An oversized body not read to its end (past the drain limit, or never sent): the connection closes.
    if (err.reason === Reason.REQUEST_TOO_LARGE && closesAfterRefusal(req)) headers["connection"] = "close";
    if (rendered.challenge !== undefined) headers["www-authenticate"] = rendered.challenge;
    res.writeHead(rendered.httpStatus, headers);
    res.end(rendered.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = originForm(req.url ?? "/");
    const method = req.method ?? "GET";
    const q = url.indexOf("?");
    const rawPath = q === -1 ? url : url.slice(0, q);
    let format = DEFAULT_FORMAT;
    // Every answer carries `nosniff` and the request id: an API answer in its writeHead (given there, with
    // no header set before, node:http writes them without merging), every other one set here first.
    const requestId = requestIdOf(req.headers[REQUEST_ID_HEADER] as string | undefined);
    let rpc: string | undefined;
    const about = (): LogFields => ({ requestId, ...(rpc === undefined ? {} : { method: rpc }) });
    const plain = plainRoutes.size === 0 ? undefined : plainRoutes.get(rawPath);
    if (plain && (method === "GET" || method === "HEAD") && (plain.anyHost || browser.hostAllowed(requestHost(req)))) {
      req.resume();
      identify(res, requestId);
      plain.handle(req, res);
      return;
    }
    try {
      // Before anything else, routing included: a page reaching this port under its own name (DNS rebinding).
      const host = requestHost(req);
      if (!browser.hostAllowed(host)) {
        req.resume();
        throw hostNotAllowed(host);
      }
      browser.corsHeaders(req, res);
      if (isPreflight(req)) {
        req.resume();
        identify(res, requestId);
        preflight(req, res, rawPath);
        return;
      }
      const refused = browser.crossOriginRefused(req);
      if (refused !== undefined) {
        req.resume();
        throw originNotAllowed(refused);
      }
      const mount = mounts.find((m) => rawPath === m.path || rawPath.startsWith(`${m.path}/`));
      if (mount !== undefined) {
        req.resume();
        identify(res, requestId);
        mount.handle(req, res, rawPath);
        return;
      }
      const found = router.lookup(method, rawPath);
      if (found.kind !== "match") {
        req.resume();
        throw found.kind === "unknown-path"
          ? unknownPath(method, rawPath)
          : methodNotBound(method, rawPath, found.allowed);
      }
      const { route, values } = found.match;
      rpc = `${route.endpoint.method.parent.typeName}.${route.endpoint.method.name}`;
      const binding = route.binding;
      // Only JSON is read: forms and text/plain are what browsers send cross-origin without asking first.
      const contentType = req.headers["content-type"];
      if (contentType === undefined ? hasBody(req) : !isJsonMediaType(contentType)) {
        req.resume();
        throw unsupportedMediaType(contentType);
      }
      let coding: ContentCoding;
      try {
        coding = contentCodingOf(req.headers["content-encoding"]);
      } catch (e) {
        req.resume();
        throw e;
      }
      const query = parseQuery(q === -1 ? "" : url.slice(q + 1), binding.input, DEFAULT_FORMAT);
      format = query.format;
      const pendingBody = readBody(req, limits, coding);
      const bodyText = typeof pendingBody === "string" ? pendingBody : await pendingBody;
      const request = buildRequest(binding, values, query.params, bodyText, registry);
      const ctx = callContext(req, res, query, requestId);
      if (route.endpoint.watch !== undefined) {
        identify(res, requestId);
        await streams.serve(route.endpoint, request, ctx, res);
        return;
      }

      let response: Message;
      try {
        response = await route.endpoint.invoke(request, ctx);
      } catch (e) {
        if (e instanceof RpcError) throw e;
        log(`${rpc} threw`, e, about());
        throw internalError();
      }
      if (res.destroyed) return;
      if (response?.$typeName !== binding.output.typeName) {
        log(`${rpc} returned ${String(response?.$typeName)}, expected ${binding.output.typeName}`, undefined, about());
        throw internalError();
      }
      let text: string;
      try {
        text = responses.encode(binding.output, response, binding.responseField, format);
      } catch (e) {
        log(`cannot encode the response of ${route.endpoint.method.name}`, e, about());
        throw internalError();
      }
      res.writeHead(200, {
        "x-content-type-options": "nosniff",
        [REQUEST_ID_HEADER]: requestId,
        "content-type": JSON_CONTENT_TYPE,
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    } catch (e) {
      try {
        if (e instanceof RpcError) {
          fail(req, res, e, format, requestId);
        } else {
          log("unexpected failure", e, about());
          fail(req, res, internalError(), format, requestId);
        }
      } catch (e2) {
        log("cannot answer a request", e2, about());
        if (!res.destroyed) res.destroy();
      }
    }
  };

  /** A CORS preflight (the origin allowed, the path bound) → 204; otherwise an error. */
  const preflight = (req: IncomingMessage, res: ServerResponse, rawPath: string): void => {
    const origin = req.headers.origin ?? "";
    if (!browser.originAllowed(origin)) throw originNotAllowed(origin);
    const methods = router.methodsAt(rawPath);
    if (methods.length === 0) throw unknownPath("OPTIONS", rawPath);
    browser.preflightHeaders(res, methods);
    res.writeHead(204);
    res.end();
  };

  return Object.assign((req: IncomingMessage, res: ServerResponse) => void handle(req, res), { closeStreams: () => streams.closeAll() });
}

/** Serves the endpoints over HTTP/1.1, or HTTPS with `tls`, on host:port. */
export async function startRestServer(options: RestServerOptions & RestListenOptions): Promise<RestServer> {
  const handler = createRestHandler(options);
  const { tls } = options;
  const maxHeaderSize = options.maxHeaderBytes ?? DEFAULTS.maxHeaderBytes.value;
  const server: http.Server =
    tls === undefined
      ? http.createServer({ maxHeaderSize }, handler)
      : https.createServer(
          tls.clientCa === undefined
            ? { cert: tls.cert, key: tls.key, maxHeaderSize }
            : { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true, maxHeaderSize },
          handler,
        );
  answerAtConnectionLevel(server, handler, {
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxHeaderBytes: maxHeaderSize,
    errorDomain: options.errorDomain,
    registry: options.registry,
    log: options.log ?? ((message, err) => console.error(`longrun rest: ${message}`, err ?? "")),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `${tls === undefined ? "http" : "https"}://${urlHost(options.host)}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        sweep.unref();
        handler.closeStreams();
        server.close((err) => {
          clearInterval(sweep);
          if (err && (err as NodeJS.ErrnoException).code !== "ERR_SERVER_NOT_RUNNING") reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** The headers of every answer, set ahead of one not written by the API path's own writeHead. */
function identify(res: ServerResponse, requestId: string): void {
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader(REQUEST_ID_HEADER, requestId);
}

function urlHost(host: string): string {
  if (host === "" || host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * The request target in origin form (`/path?query`). RFC 9112 §3.2.2: a server must accept the absolute
 * form (`http://host/path?query`) too, which proxies send.
 */
function originForm(target: string): string {
  if (target.charCodeAt(0) === 47 /* / */) return target;
  const match = /^https?:\/\/[^/?#]*/i.exec(target);
  if (!match) return target;
  const rest = target.slice(match[0].length);
  return rest === "" || rest.startsWith("?") ? `/${rest}` : rest;
}
