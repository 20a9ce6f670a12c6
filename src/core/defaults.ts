/**
 * Every default of longrun, once: the library's options, the CLI's flags and docs/configuration.md read
 * them from here (a test holds the docs against this table). Durations are in milliseconds, sizes in
 * bytes; `shown` is how the CLI and the docs write the value.
 */
export interface DefaultSetting<T> {
  readonly value: T;
  /** The value as the CLI's help and docs/configuration.md write it. */
  readonly shown: string;
  /** What it sets, in a few words. */
  readonly about: string;
  /** The `longrun serve` flag, where there is one. */
  readonly flag?: string;
  /** The environment variable of that flag. */
  readonly env?: string;
}

const SECOND_MS = 1000;
const HOUR_MS = 60 * 60 * SECOND_MS;
const DAY_MS = 24 * HOUR_MS;

function setting<T>(value: T, shown: string, about: string, flag?: string, env?: string): DefaultSetting<T> {
  return { value, shown, about, ...(flag === undefined ? {} : { flag }), ...(env === undefined ? {} : { env }) };
}

export const DEFAULTS = {
  host: setting("127.0.0.1", "127.0.0.1", "address the servers listen on", "--host", "LONGRUN_HOST"),
  grpcPort: setting(50051, "50051", "gRPC port", "--grpc-port", "LONGRUN_GRPC_PORT"),
  httpPort: setting(8080, "8080", "REST port", "--http-port", "LONGRUN_HTTP_PORT"),
  concurrency: setting(64, "64", "handlers running at once in one process", "--concurrency", "LONGRUN_CONCURRENCY"),
  leaseMs: setting(30 * SECOND_MS, "30s", "how long a claim holds an operation without a heartbeat", "--lease", "LONGRUN_LEASE"),
  retryBackoff: setting(
    { initialMs: SECOND_MS, maxMs: 60 * SECOND_MS } as const,
    "1s doubling to 60s",
    "backoff before an interrupted operation runs again",
  ),
  maxAttempts: setting(3, "3", "attempts in all before an interrupted operation ends ABORTED (per method)"),
  retentionMs: setting(30 * DAY_MS, "30d", "how long done operations are kept (AIP-151)", "--retention", "LONGRUN_RETENTION"),
  purgeIntervalMs: setting(HOUR_MS, "1h", "how often expired done operations are deleted"),
  maxWaitMs: setting(60 * SECOND_MS, "60s", "the longest a WaitOperation call waits", "--max-wait", "LONGRUN_MAX_WAIT"),
  shutdownGraceMs: setting(10 * SECOND_MS, "10s", "how long running handlers get to finish at shutdown", "--shutdown-grace", "LONGRUN_SHUTDOWN_GRACE"),
  pageTokenTtlMs: setting(3 * DAY_MS, "3d", "how long a page token stays valid (AIP-158)", "--page-token-ttl", "LONGRUN_PAGE_TOKEN_TTL"),
  defaultPageSize: setting(50, "50", "ListOperations page size when page_size is 0", "--default-page-size", "LONGRUN_DEFAULT_PAGE_SIZE"),
  maxPageSize: setting(1000, "1000", "larger page sizes are coerced down to this", "--max-page-size", "LONGRUN_MAX_PAGE_SIZE"),
  maxBodyBytes: setting(1024 * 1024, "1 MiB", "largest REST request body; a larger one is 413", "--max-body", "LONGRUN_MAX_BODY"),
  maxReceiveMessageBytes: setting(4 * 1024 * 1024, "4 MiB", "largest gRPC request message (gRPC's own default); a larger one is RESOURCE_EXHAUSTED", "--max-receive-message", "LONGRUN_MAX_RECEIVE_MESSAGE"),
  errorDomain: setting("longrun.dev", "longrun.dev", "ErrorInfo.domain of errors (AIP-193)", "--error-domain", "LONGRUN_ERROR_DOMAIN"),
  collection: setting("operations", "operations", "collection id of operation names", "--collection", "LONGRUN_COLLECTION"),
  restPrefix: setting("/v1", "/v1", "version prefix of the Operations REST bindings"),
  // What keeps web pages out of the REST port (docs/security.md, "Browsers").
  allowedHosts: setting<readonly string[] | undefined>(
    undefined,
    "the bound address",
    "Host header values the REST server answers for, beside its own address (and localhost on loopback): name, name:port, .domain, * for any; on 0.0.0.0/:: any host unless given",
    "--allowed-host",
    "LONGRUN_ALLOWED_HOSTS",
  ),
  corsOrigins: setting<readonly string[]>([], "none", "origins whose web pages may call the REST API (CORS), e.g. https://app.example", "--cors-origin", "LONGRUN_CORS_ORIGINS"),
  corsMaxAgeMs: setting(10 * 60 * SECOND_MS, "10m", "how long browsers may cache a CORS preflight (Access-Control-Max-Age)"),
  // The web dashboard (docs/dashboard.md).
  uiPath: setting("/ui", "/ui", "where the web dashboard is served on the REST port (--no-ui: not at all)", "--ui-path", "LONGRUN_UI_PATH"),
  // Credentials: the auth file of `longrun serve`, and what the client commands (get, list, wait…) present.
  authFile: setting<string | undefined>(undefined, "none", "the auth file: API keys, JWT issuer, roles, bindings", "--auth", "LONGRUN_AUTH"),
  apiKey: setting<string | undefined>(undefined, "none", "an API key, sent as x-goog-api-key", "--api-key", "LONGRUN_API_KEY"),
  token: setting<string | undefined>(undefined, "none", "a bearer token (JWT), sent as authorization: Bearer", "--token", "LONGRUN_TOKEN"),
  // What one operation may hold, encoded (docs/api.md, "Limits"): the three caps and a name together stay
  // well under maxListResponseBytes, so an operation always fits on a List page of its own.
  maxResponseBytes: setting(1024 * 1024, "1 MiB", "largest response an operation may hold (encoded); a larger one fails the operation RESOURCE_EXHAUSTED", "--max-response", "LONGRUN_MAX_RESPONSE"),
  maxMetadataBytes: setting(256 * 1024, "256 KiB", "largest metadata an operation may hold (encoded); a larger ctx.progress is refused RESOURCE_EXHAUSTED", "--max-metadata", "LONGRUN_MAX_METADATA"),
  maxErrorBytes: setting(64 * 1024, "64 KiB", "largest error (encoded google.rpc.Status) an operation may hold; a larger one is truncated", "--max-error", "LONGRUN_MAX_ERROR"),
  maxListResponseBytes: setting(2 * 1024 * 1024, "2 MiB", "ListOperations stops filling a page before its encoded size would pass this", "--max-list-response", "LONGRUN_MAX_LIST_RESPONSE"),
  // REST limits beyond the body's (docs/api.md, "Limits").
  maxDrainBytes: setting(
    64 * 1024 * 1024,
    "64 MiB",
    "most of an oversized REST body read and discarded so the client gets its 413; past it the connection is closed",
    "--max-drain",
    "LONGRUN_MAX_DRAIN",
  ),
  // Completion notifications (docs/notifications.md).
  notify: setting<readonly string[]>(
    [],
    "none",
    "where finished operations are announced: https://… webhook (Pub/Sub push envelope), nats://host:4222/SUBJECT (JetStream), redis://host:6379/STREAM",
    "--notify",
    "LONGRUN_NOTIFY",
  ),
  notifySecret: setting<string | undefined>(undefined, "none", "HMAC-SHA256 key signing webhook bodies (header longrun-signature)", "--notify-secret", "LONGRUN_NOTIFY_SECRET"),
  notifyEvents: setting<readonly string[] | undefined>(undefined, "all", "only these event types are announced (OPERATION_SUCCEEDED, OPERATION_FAILED, OPERATION_CANCELLED; OPERATION_STARTED only when listed)", "--notify-events", "LONGRUN_NOTIFY_EVENTS"),
  notifyPayload: setting<"JSON" | "NONE">("JSON", "JSON", "JSON: each event carries the operation; NONE: its attributes only", "--notify-payload", "LONGRUN_NOTIFY_PAYLOAD"),
  notifyRetryForMs: setting(24 * HOUR_MS, "24h", "how long an event is retried before it is kept as failed", "--notify-retry-for", "LONGRUN_NOTIFY_RETRY_FOR"),
  notifyTimeoutMs: setting(10 * SECOND_MS, "10s", "one delivery attempt's limit", "--notify-timeout", "LONGRUN_NOTIFY_TIMEOUT"),
  // Metrics and health (docs/observability.md).
  metrics: setting(true, "on", "Prometheus metrics: GET /metrics on the REST port (not with auth on), or on --metrics-port; --no-metrics turns them off"),
  metricsCacheMs: setting(5 * SECOND_MS, "5s", "how long a scrape's counts of operations and outbox events are reused"),
  metricsPort: setting<number | undefined>(undefined, "none", "serve /metrics, /healthz and /readyz on this port of their own (plain HTTP) instead of the REST port", "--metrics-port", "LONGRUN_METRICS_PORT"),
  metricsHost: setting("127.0.0.1", "127.0.0.1", "address of the metrics port: loopback or an internal network", "--metrics-host", "LONGRUN_METRICS_HOST"),
  // Logs (docs/observability.md, "Logs"): `longrun serve`'s; the library logs through `ServerOptions.log`.
  logLevel: setting("info", "info", "the least level written: fatal, error, warn, info, debug (a line per RPC), trace, silent", "--log-level", "LONGRUN_LOG_LEVEL"),
  logFormat: setting<"json" | "pretty" | undefined>(undefined, "json, pretty on a TTY", "log lines on standard error: json (one object a line) or pretty (for people)", "--log-format", "LONGRUN_LOG_FORMAT"),
  maxHeaderBytes: setting(16 * 1024, "16 KiB", "largest REST request line and headers, the URL included (node:http's maxHeaderSize); larger is 431", "--max-header", "LONGRUN_MAX_HEADER"),
} as const;

export type DefaultName = keyof typeof DEFAULTS;
