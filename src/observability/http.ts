import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.js";
import type { Readiness } from "./readiness.js";

/**
 * A plain GET route beside the API (the REST server's `plainRoutes` takes these): `anyHost` ones are
 * answered whatever the Host header says, since load balancers probe by IP address.
 */
export interface ObservabilityRoute {
  path: string;
  anyHost: boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface RoutesOptions {
  readiness: Readiness;
  /** Serve GET /metrics from these; undefined: no /metrics route. */
  metrics?: Metrics | undefined;
  /** ErrorInfo.domain of the 503's error. */
  errorDomain: string;
}

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * GET /healthz (200 while the process serves), GET /readyz (200, or 503 with a google.rpc.Status as
 * Google's REST errors are: the store unreachable, or shutting down) and, with metrics, GET /metrics
 * (Prometheus text exposition). None takes credentials: the probes tell only up or not, and /metrics is
 * for a separate port or a server without auth (docs/security.md).
 */
export function observabilityRoutes(options: RoutesOptions): ObservabilityRoute[] {
  const { readiness, metrics, errorDomain } = options;
  const routes: ObservabilityRoute[] = [
    { path: "/healthz", anyHost: true, handle: (_req, res) => send(res, 200, JSON_TYPE, '{"status":"SERVING"}\n') },
    {
      path: "/readyz",
      anyHost: true,
      handle: (_req, res) =>
        void readiness.check().then((state) => {
          if (state.ready) send(res, 200, JSON_TYPE, '{"status":"SERVING"}\n');
          else send(res, 503, JSON_TYPE, `${JSON.stringify(notReady(state.reason, errorDomain), undefined, 2)}\n`);
        }),
    },
  ];
  if (metrics) {
    routes.push({
      path: "/metrics",
      anyHost: false,
      handle: (_req, res) =>
        void metrics.exposition().then(
          ({ contentType, text }) => send(res, 200, contentType, text),
          () => send(res, 500, "text/plain; charset=utf-8", "metrics could not be collected\n"),
        ),
    });
  }
  return routes;
}

/** google.rpc.Status in Google's REST error shape: UNAVAILABLE, with an ErrorInfo. */
function notReady(reason: string, domain: string): object {
  return {
    error: {
      code: 503,
      message: reason,
      status: "UNAVAILABLE",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "NOT_READY", domain }],
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The routes on a port of their own (`--metrics-port`): plain HTTP, every Host answered, meant to be bound
 * to loopback or an internal network only Prometheus and the load balancer reach.
 */
export async function startMetricsServer(routes: readonly ObservabilityRoute[], host: string, port: number): Promise<MetricsServer> {
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const server = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = byPath.get(path);
    if (route === undefined) return send(res, 404, "text/plain; charset=utf-8", "not found: /metrics, /healthz, /readyz\n");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    }
    route.handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host === "" || host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${shown}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
