import type { DescFile, DescMethod, Registry } from "@bufbuild/protobuf";
import { DEFAULTS } from "./core/defaults.js";
import { DEFAULT_ERROR_DOMAIN } from "./core/errors.js";
import { OperationNames, type OperationNamesOptions } from "./core/names.js";
import { buildRegistry } from "./core/registry.js";
import type { Store } from "./store/store.js";
import { Runtime, type RuntimeOptions } from "./runtime/runtime.js";
import type { MethodDeclaration, MethodDefinition } from "./runtime/methods.js";
import { OperationsService, type OperationsServiceOptions, type OptionalMethod } from "./service/operations-service.js";
import { PageTokens } from "./service/page-token.js";
import { LocalOperations } from "./service/local-operations.js";
import { Waiters } from "./service/waiters.js";
import {
  methodEndpoint,
  operationControlEndpoint,
  operationsEndpoints,
  type AdditionalBinding,
  type DisabledMethods,
  type OperationControlOptions,
  type ListScope,
  DEFAULT_PERMISSION_PREFIX,
} from "./service/endpoints.js";
import { profileOptions, type DeploymentProfile, type FilterDialects, type ProfileOptions } from "./profiles/profile.js";
import type { Endpoint } from "./service/endpoint.js";
import { startGrpcServer, type GrpcServer } from "./transport/grpc/server.js";
import { startRestServer } from "./transport/rest/server.js";
import type { TlsOptions } from "./transport/tls.js";
export type { TlsOptions };
import type { AuthConfig } from "./auth/config.js";
import type { Authorize } from "./auth/policy.js";
import { buildAuth } from "./auth/auth.js";
import { checkAuth, loadAuthFile } from "./auth/load.js";
import { guardEndpoints, permissionCatalogue } from "./service/guard.js";
import { loggerAuditSink, type AuditSink } from "./service/audit.js";
import { consoleLogger } from "./core/logger.js";
import type { Dispatcher } from "./notify/dispatcher.js";
import { dispatcherOf, notificationsOf, type NotificationNaming, type NotifyTarget } from "./notify/setup.js";
import { systemClock } from "./runtime/clock.js";
import { NOTIFICATIONS_FILE, notificationsEndpoints } from "./service/notifications.js";
import { Observability, type MetricsSettings } from "./observability/setup.js";
import type { TracingSettings } from "./observability/tracing.js";
export type { TracingSettings };
import type { Metrics } from "./observability/metrics.js";
export type { MetricsSettings };
import { ACTIVITY_FILE } from "./service/activity.js";
import { dashboard } from "./ui/dashboard.js";

/** What the server passes on to the runtime (documented in RuntimeOptions). */
type RuntimeSettings = Pick<RuntimeOptions, "worker" | "concurrency" | "leaseMs" | "retryBackoff" | "retentionMs" | "purgeIntervalMs" | "log" | "maxResponseBytes" | "maxMetadataBytes" | "maxErrorBytes">;
/** What the server passes on to the Operations service (documented in OperationsServiceOptions). */
type ServiceSettings = Pick<OperationsServiceOptions, "maxWaitMs" | "defaultPageSize" | "maxPageSize" | "maxListResponseBytes" | "filterDialect" | "filterRequired">;

export interface ServerOptions extends RuntimeSettings, ServiceSettings {
  store: Store;
  /**
   * How the deployment presents the Operations service (names, bindings, methods per transport, listing,
   * custom methods on operations), as one declarative profile. Options given here override it.
   */
  profile?: DeploymentProfile;
  /**
   * Filter dialects by name, beside the built-in "aip-160", for the profile's `listing.filterDialect` to
   * name (a plug-in such as the Storage Transfer example's JSON filter registers itself here).
   */
  filterDialects?: FilterDialects;
  methods: readonly MethodDeclaration[];
  /**
   * Extra proto files: those declaring the RPCs `controls` name by full name (a profile module brings
   * them), and any whose types may appear in Any (metadata, responses, error details).
   */
  files?: readonly DescFile[];
  /** gRPC listen address; `false` for no gRPC. Port 0 picks a free port. @default 127.0.0.1:50051 */
  grpc?: { host: string; port: number } | false;
  /** REST listen address; `false` for no REST. @default 127.0.0.1:8080 */
  http?: { host: string; port: number } | false;
  names?: OperationNamesOptions;
  /** ErrorInfo.domain of the errors this server answers with. @default "longrun.dev" */
  errorDomain?: string;
  pageTokenSecret?: string;
  /** How long a page token stays valid. @default 3 days */
  pageTokenTtlMs?: number;
  /** Operations methods that answer UNIMPLEMENTED: on both transports (a list), or per transport. */
  disabled?: readonly OptionalMethod[] | DisabledMethods;
  /** The version prefix of the Operations REST bindings. @default "/v1" */
  restPrefix?: string;
  /**
   * More endpoints to serve, given the Operations service: e.g. an Operations method at an extra REST
   * binding a real service has (Cloud Search's `GET /v1/{name=operations/**}/lro` for ListOperations).
   * Served after the built-in ones, over the transports each endpoint asks for.
   */
  extraEndpoints?: (service: OperationsService) => readonly Endpoint[];
  /** More REST routes of Operations methods (see OperationsEndpointOptions.additionalBindings). */
  additionalBindings?: readonly AdditionalBinding[];
  /**
   * Custom methods on operations: RPCs (descriptors, or full names found among the served protos) whose
   * request names an operation, each sending its command to the operation's handler (`ctx.control`).
   */
  controls?: readonly (Omit<OperationControlOptions, "method"> & { method: DescMethod | string })[];
  /**
   * Completion notifications (docs/notifications.md): where finished operations are announced. Each
   * finish writes its events to the store's outbox in its own transaction; this instance's dispatcher
   * delivers them (so do the others' sharing the store with the same targets). @default none
   */
  notify?: readonly NotifyTarget[];
  /** How the deployment names its events and what it adds to them (a profile module's). */
  notificationNaming?: NotificationNaming;
  /** How long an event is retried before it is kept as failed. @default DEFAULTS.notifyRetryForMs (24 h) */
  notifyRetryForMs?: number;
  /** Largest REST body accepted (as sent and decompressed); larger is 413. @default DEFAULTS.maxBodyBytes (1 MiB) */
  maxBodyBytes?: number;
  /** Most of an oversized REST body read and discarded so the client gets its 413. @default DEFAULTS.maxDrainBytes (64 MiB) */
  maxDrainBytes?: number;
  /** Largest REST request line and headers; larger is 431. @default DEFAULTS.maxHeaderBytes (16 KiB) */
  maxHeaderBytes?: number;
  /** Largest gRPC request message. @default DEFAULTS.maxReceiveMessageBytes (4 MiB, gRPC's default) */
  maxReceiveMessageBytes?: number;
  /** How long running handlers get to finish at close before their leases are released. @default 10_000 */
  shutdownGraceMs?: number;
  /**
   * Turns authentication and authorization on (docs/security.md): the auth file's path (YAML or JSON) or
   * its contents. Off by default: without it, anyone who reaches the ports may call every method.
   */
  auth?: AuthConfig | string;
  /** Your own IAM in place of the auth file's roles and bindings; asked once per call. Needs `auth`. */
  authorize?: Authorize;
  /** Where the audit log of mutations goes when auth is on. @default `info` records of `log` (loggerAuditSink) */
  audit?: AuditSink;
  /** TLS for both ports (and mutual TLS with `clientCa`). */
  tls?: TlsOptions;
  /**
   * Host header values the REST server answers for, beside its own address (and `localhost`, `127.0.0.1`,
   * `[::1]` when it listens on loopback): `name`, `name:port`, `.domain`, or `*` for any. Listening on
   * `0.0.0.0`/`::`, any host is answered unless names are given here. A request for another host is 421
   * (DNS rebinding, docs/security.md). @default the listen address
   */
  allowedHosts?: readonly string[];
  /**
   * Origins (`https://app.example`) whose web pages may call the REST API: CORS headers for them, preflights
   * answered. @default none (no CORS; browsers' cross-origin requests that change state are refused)
   */
  corsOrigins?: readonly string[];
  /** Allows auth without TLS on an address other than loopback (credentials then cross the network in clear). */
  insecure?: boolean;
  /** The service part of permission names: `cloudtranslate.operations.get`. @default "longrun" */
  permissionPrefix?: string;
  /** The permission starting each long-running method, by the RPC's full name. */
  methodPermissions?: Readonly<Record<string, string>>;
  /**
   * With auth on, the resource a ListOperations request is about (see OperationsEndpointOptions.listScope):
   * a caller who may not list the collection but may list this resource lists the operations started on
   * it. A profile module exports it beside its profile (the Storage Transfer example: the JSON filter's
   * projectId → `projects/{projectId}`).
   */
  listScope?: ListScope;
  /**
   * The web dashboard (docs/dashboard.md) on the REST port, at `path`, with the live stream it listens to
   * (`GET {list binding}:watch`); `false` for neither. @default { path: DEFAULTS.uiPath ("/ui") }
   */
  ui?: false | { path?: string };
  /**
   * Prometheus metrics (docs/observability.md): `GET /metrics` on the REST port — not when auth is on,
   * then only on a port of its own (`{ port }`, docs/security.md) — or `false` for none. The health probes
   * (`/healthz`, `/readyz`, the gRPC health service) are served either way. @default {} (on)
   */
  metrics?: false | MetricsSettings;
  /**
   * OpenTelemetry traces (docs/observability.md, "Traces"): a span per RPC and per handler run, the run in
   * the trace of the start that created the operation. `{ tracerProvider }` sends them to your provider;
   * `false` turns them off. @default on only when the OTEL_* variables name an OTLP exporter
   * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_TRACES_EXPORTER=otlp`)
   */
  tracing?: false | TracingSettings;
}

export interface LongrunServer {
  runtime: Runtime;
  service: OperationsService;
  /**
   * The library API: start operations and await their results in this process, no RPC, no authentication
   * (docs/concepts.md, "In-process: the library API"). Works with `grpc: false, http: false`.
   */
  operations: LocalOperations;
  /** host:port of the gRPC server, if serving gRPC. */
  grpcAddress: string | undefined;
  /** http://host:port of the REST server, if serving REST. */
  httpUrl: string | undefined;
  /** http://host:port of the metrics port (`metrics.port`), if one was asked for. */
  metricsUrl: string | undefined;
  /** The server's metrics (its own prom-client Registry: `metrics.registry`), undefined with `metrics: false`. */
  metrics: Metrics | undefined;
  /** The web dashboard's URL, if serving it. */
  uiUrl: string | undefined;
  /** Stops accepting calls, lets handlers finish (grace period), releases leases, closes the store. */
  close(): Promise<void>;
}

/** Starts a longrun server: the runtime (worker) and the Operations service over gRPC and REST. */
export async function startServer(options: ServerOptions): Promise<LongrunServer> {
  const profile = options.profile ? profileOptions(options.profile, options.filterDialects) : undefined;
  options = { ...options, ...overrides(profile, options) };
  const files = [
    ...options.methods.map((m) => m.method.parent.file),
    ...(options.files ?? []),
    NOTIFICATIONS_FILE,
    ACTIVITY_FILE,
    ...(options.controls ?? []).flatMap((c) => (typeof c.method === "string" ? [] : [c.method.parent.file])),
  ];
  const registry = buildRegistry(files);
  const controls = (options.controls ?? []).map((c) => ({ ...c, method: typeof c.method === "string" ? findMethod(registry, c.method) : c.method }));
  const names = new OperationNames(options.names);
  const notifications = notificationsOf(options.notify ?? [], options.notificationNaming);
  let dispatcher: Dispatcher | undefined;
  const observability = new Observability({
    store: options.store,
    metrics: options.metrics ?? {},
    tracing: options.tracing,
    auth: options.auth !== undefined,
    errorDomain: options.errorDomain ?? DEFAULT_ERROR_DOMAIN,
    log: options.log ?? consoleLogger,
    methods: () => runtime.methods.keys(),
    waiters: () => service.waiting,
  });
  const store = observability.store;
  const runtime: Runtime = new Runtime({
    notifications: notifications.routes,
    // The dispatcher comes after the runtime (it needs the runtime's instance id): bound late.
    notificationHandOff: notifications.sinks.size === 0 ? undefined : { leaseMs: notifications.leaseMs, deliver: (events) => dispatcher?.deliverNow(events) },
    metrics: observability.runtimeMetrics,
    tracing: observability.tracing,
    store,
    registry,
    methods: options.methods,
    names,
    worker: options.worker,
    concurrency: options.concurrency,
    leaseMs: options.leaseMs,
    retryBackoff: options.retryBackoff,
    retentionMs: options.retentionMs,
    purgeIntervalMs: options.purgeIntervalMs,
    maxResponseBytes: options.maxResponseBytes,
    maxMetadataBytes: options.maxMetadataBytes,
    maxErrorBytes: options.maxErrorBytes,
    log: options.log,
  });
  // One registry of waiters for WaitOperation calls and the library's awaited results.
  const waiters = new Waiters(store, runtime);
  const service: OperationsService = new OperationsService({
    store,
    runtime,
    waiters,
    defaultPageSize: options.defaultPageSize,
    maxPageSize: options.maxPageSize,
    maxListResponseBytes: options.maxListResponseBytes,
    filterDialect: options.filterDialect,
    filterRequired: options.filterRequired,
    maxWaitMs: options.maxWaitMs,
    pageTokens: new PageTokens({ secret: options.pageTokenSecret, ttlMs: options.pageTokenTtlMs }),
    metrics: observability.metrics,
  });
  const httpListen = options.http === undefined ? { host: DEFAULTS.host.value, port: DEFAULTS.httpPort.value } : options.http;
  const uiPath = options.ui === false || httpListen === false ? undefined : (options.ui?.path ?? DEFAULTS.uiPath.value);
  const disabled = Array.isArray(options.disabled) ? { grpc: options.disabled, rest: options.disabled } : (options.disabled as DisabledMethods | undefined);
  const { permissionPrefix, methodPermissions = {} } = options;
  const methodOptions = (definition: MethodDefinition) => ({ permissionPrefix, permission: methodPermissions[definition.fullName] });
  const endpoints = [
    ...operationsEndpoints(service, {
      prefix: options.restPrefix, disabled, additionalBindings: options.additionalBindings, permissionPrefix, listScope: options.listScope, watch: uiPath !== undefined, methodOptions,
    }),
    ...[...runtime.methods.values()].map((definition) => methodEndpoint(service, definition, methodOptions(definition))),
    ...controls.map((control) => operationControlEndpoint(service, { permissionPrefix, ...control })),
    ...notificationsEndpoints(store, { permissionPrefix: permissionPrefix ?? DEFAULT_PERMISSION_PREFIX }),
    ...(options.extraEndpoints?.(service) ?? []),
  ];
  const errorDomain = options.errorDomain ?? DEFAULT_ERROR_DOMAIN;
  const grpcListen = options.grpc === undefined ? { host: DEFAULTS.host.value, port: DEFAULTS.grpcPort.value } : options.grpc;
  const served = observability.endpoints(guard(endpoints, options, [grpcListen, httpListen]));

  let grpcServer: GrpcServer | undefined;
  let restServer: Awaited<ReturnType<typeof startRestServer>> | undefined;
  let metricsUrl: string | undefined;
  try {
    if (grpcListen) {
      grpcServer = await startGrpcServer({
        endpoints: served, errorDomain, ...grpcListen, tls: options.tls, log: options.log, maxReceiveMessageBytes: options.maxReceiveMessageBytes,
      });
    }
    if (httpListen) {
      restServer = await startRestServer({
        endpoints: served, registry, errorDomain, maxBodyBytes: options.maxBodyBytes, log: options.log, ...httpListen, tls: options.tls,
        allowedHosts: options.allowedHosts, corsOrigins: options.corsOrigins,
        maxDrainBytes: options.maxDrainBytes, maxHeaderBytes: options.maxHeaderBytes, plainRoutes: observability.restRoutes,
        mounts: uiPath === undefined ? [] : [dashboard({
          path: uiPath, names, restPrefix: options.restPrefix ?? DEFAULTS.restPrefix.value, auth: options.auth !== undefined,
          live: !disabled?.rest?.includes("ListOperations"),
          methods: [...runtime.methods.values()].map((m) => ({ name: m.fullName, metadataType: m.metadata.typeName })),
          controls: controls.map((c) => ({ command: c.command, method: c.method })),
        })],
      });
    }
    metricsUrl = await observability.start();
  } catch (err) {
    await grpcServer?.close();
    await restServer?.close();
    await observability.close();
    throw err;
  }
  if (grpcServer) observability.readiness.watch(grpcServer.setServing);
  // The dispatcher before the runtime: the first finishes hand their events to it.
  dispatcher = dispatcherOf(notifications, {
    store, registry, clock: systemClock, log: options.log ?? consoleLogger, owner: runtime.instanceId, retryForMs: options.notifyRetryForMs,
    onOutcome: observability.metrics && ((destination, outcome) => observability.metrics?.notification(destination, outcome)),
  });
  dispatcher?.start();
  runtime.start();

  const operations = new LocalOperations({ store, runtime, waiters, clock: systemClock });
  let closing: Promise<void> | undefined;
  return {
    runtime,
    service,
    operations,
    grpcAddress: grpcServer?.address,
    httpUrl: restServer?.url,
    metricsUrl,
    metrics: observability.metrics,
    uiUrl: restServer && uiPath !== undefined ? `${restServer.url}${uiPath}/` : undefined,
    close: () =>
      (closing ??= (async () => {
        // Not ready first: the gRPC health service says NOT_SERVING and /readyz 503 while the rest stops.
        observability.shutDown();
        await Promise.all([grpcServer?.close(), restServer?.close()]);
        await runtime.stop(options.shutdownGraceMs);
        operations.close();
        await dispatcher?.close();
        service.close();
        await observability.close();
        await options.store.close();
      })()),
  };
}

/**
 * The endpoints behind the guard when auth is on; as they are when it is off. With auth on, refuses to
 * listen beyond loopback without TLS (credentials would cross the network in clear) unless `insecure`.
 */
function guard(endpoints: Endpoint[], options: ServerOptions, listen: readonly ({ host: string } | false)[]): Endpoint[] {
  if (options.auth === undefined) {
    if (options.authorize) throw new Error("authorize needs auth: the credentials the callers present (ServerOptions.auth)");
    return endpoints;
  }
  if (!options.tls && !options.insecure) {
    const exposed = listen.find((l) => l && !isLoopback(l.host));
    if (exposed) {
      throw new Error(
        `auth is on but TLS is not: refusing to listen on ${exposed.host || "every address"} where credentials would cross the network in clear (give tls, or insecure to allow it)`,
      );
    }
  }
  const log = options.log ?? consoleLogger;
  // A profile may name methods a server does not serve (it is served without them); with auth on, a name
  // that matches nothing is more likely a typo leaving a method on its default permission: say so.
  const served = new Set(endpoints.map((e) => `${e.method.parent.typeName}.${e.method.name}`));
  for (const method of Object.keys(options.methodPermissions ?? {})) {
    if (!served.has(method)) log(`methodPermissions names ${method}, which this server does not serve: its permission is not used`);
  }
  const loaded = typeof options.auth === "string" ? loadAuthFile(options.auth) : checkAuth(options.auth);
  const auth = buildAuth(loaded, permissionCatalogue(endpoints), options.authorize);
  return guardEndpoints(endpoints, { auth, audit: options.audit ?? loggerAuditSink(log), log });
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The profile's settings that `options` does not set itself. */
function overrides(profile: ProfileOptions | undefined, options: ServerOptions): Partial<ServerOptions> {
  if (!profile) return {};
  const result: Partial<ServerOptions> = {};
  for (const key of Object.keys(profile) as (keyof ProfileOptions)[]) {
    if (options[key] === undefined) (result as Record<string, unknown>)[key] = profile[key];
  }
  return result;
}

/** An RPC by full name (`package.Service.Method`) among the registry's services. */
function findMethod(registry: Registry, fullName: string): DescMethod {
  const dot = fullName.lastIndexOf(".");
  const method = registry.getService(fullName.slice(0, dot))?.methods.find((m) => m.name === fullName.slice(dot + 1));
  if (!method) throw new Error(`${fullName}: no such RPC among the served protos (add its file to \`files\`)`);
  return method;
}
