import { DEFAULTS } from "../core/defaults.js";
import type { Logger } from "../core/logger.js";
import { logEndpoints } from "./logging.js";
import type { RuntimeMetrics } from "../runtime/metrics.js";
import type { Endpoint } from "../service/endpoint.js";
import type { Store } from "../store/store.js";
import { instrumentEndpoints } from "./endpoints.js";
import { observabilityRoutes, startMetricsServer, type MetricsServer, type ObservabilityRoute } from "./http.js";
import { Metrics } from "./metrics.js";
import { Readiness } from "./readiness.js";
import { instrumentStore } from "./store.js";
import { Tracing, type TracingSettings } from "./tracing.js";

/** Metrics settings of a server (ServerOptions.metrics). */
export interface MetricsSettings {
  /**
   * Serve /metrics (and /healthz, /readyz) on a port of its own, plain HTTP, instead of on the REST port.
   * 0 picks a free port. @default none: /metrics on the REST port (when auth is off)
   */
  port?: number;
  /** The metrics port's address: loopback or an internal network (docs/security.md). @default DEFAULTS.metricsHost */
  host?: string;
  /** Node.js process metrics (CPU, memory, event loop lag, GC) beside longrun's own. @default true */
  processMetrics?: boolean;
  /** How long a scrape's counts of operations and outbox events are reused. @default 5 s */
  countsCacheMs?: number;
}

export interface ObservabilityOptions {
  store: Store;
  /** false: no metrics (the health probes stay). */
  metrics: false | MetricsSettings;
  /** Traces: a provider, `false` for none, undefined to follow the OTEL_* variables. */
  tracing?: false | TracingSettings | undefined;
  /** With auth on, /metrics is not served on the REST port, only on `metrics.port`. */
  auth: boolean;
  errorDomain: string;
  log: Logger;
  /** The served long-running methods; read on scrape. */
  methods: () => Iterable<string>;
  /** WaitOperation calls waiting now; read on scrape. */
  waiters: () => number;
}

/**
 * A server's metrics and health, composed once: the store it counts through, the runtime's hooks, the
 * endpoint wrapper, the routes of the REST port and the metrics port. Without metrics, the store and
 * endpoints are passed through untouched: nothing is counted and nothing costs.
 */
export class Observability {
  readonly store: Store;
  readonly metrics: Metrics | undefined;
  readonly readiness: Readiness;
  /** The server's traces, undefined when tracing is off. */
  readonly tracing: Tracing | undefined;
  /** The routes the REST port serves: the probes, and /metrics unless it has a port of its own or auth is on. */
  readonly restRoutes: ObservabilityRoute[];
  private server: MetricsServer | undefined;

  constructor(private readonly options: ObservabilityOptions) {
    const { metrics: settings, log } = options;
    this.metrics = settings === false
      ? undefined
      : new Metrics({
          store: options.store,
          methods: options.methods,
          waiters: options.waiters,
          log,
          ...(settings.processMetrics === undefined ? {} : { processMetrics: settings.processMetrics }),
          ...(settings.countsCacheMs === undefined ? {} : { countsCacheMs: settings.countsCacheMs }),
        });
    this.tracing = Tracing.open(options.tracing);
    this.store = this.metrics ? instrumentStore(options.store, this.metrics) : options.store;
    this.readiness = new Readiness({ store: this.store, log });
    const ownPort = settings !== false && settings.port !== undefined;
    this.restRoutes = observabilityRoutes({
      readiness: this.readiness,
      metrics: ownPort || options.auth ? undefined : this.metrics,
      errorDomain: options.errorDomain,
    });
  }

  get runtimeMetrics(): RuntimeMetrics | undefined {
    return this.metrics;
  }

  /** The endpoints logged (a logger writing debug lines), counted (metrics on) and, outside that, traced (tracing on). */
  endpoints(endpoints: Endpoint[]): Endpoint[] {
    const logged = logEndpoints(endpoints, this.options.log);
    const counted = this.metrics ? instrumentEndpoints(logged, this.metrics) : logged;
    return this.tracing ? this.tracing.endpoints(counted) : counted;
  }

  /** Starts the metrics port, if one is asked for; its URL. */
  async start(): Promise<string | undefined> {
    const settings = this.options.metrics;
    if (settings === false || settings.port === undefined) return undefined;
    const routes = observabilityRoutes({ readiness: this.readiness, metrics: this.metrics, errorDomain: this.options.errorDomain });
    this.server = await startMetricsServer(routes, settings.host ?? DEFAULTS.metricsHost.value, settings.port);
    return this.server.url;
  }

  /** Not ready from now on (the server is closing). */
  shutDown(): void {
    this.readiness.shutDown();
  }

  async close(): Promise<void> {
    this.readiness.shutDown();
    await this.server?.close();
    await this.tracing?.close();
  }
}
