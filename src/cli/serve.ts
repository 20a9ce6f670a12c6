import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { DEFAULTS } from "../core/defaults.js";
import type { MethodDeclaration } from "../runtime/methods.js";
import { isPostgresUrl, openStore } from "../store/open.js";
import { redactUrl, storeOptions } from "./store-options.js";
import { startServer } from "../server.js";
import type { DisabledMethods } from "../service/endpoints.js";
import { OPTIONAL_METHODS, type OptionalMethod } from "../service/operations-service.js";
import { parseDuration } from "./duration.js";
import { optionOf } from "./setting-option.js";
import { CliError } from "./exit.js";
import { securityOptions, serveSecurity, shownAddresses, type SecurityFlags, type ServeSecurity } from "./serve-security.js";
import { profileNames, resolveProfile } from "./profile.js";
import { limitOptions, serveLimits, type LimitFlags } from "./serve-limits.js";
import { notifyOptions, serveNotify, type NotifyFlags, type ServeNotify } from "./serve-notify.js";
import { redactedUrl } from "../notify/delivery.js";
import { methods as demoMethods } from "../demo/index.js";
import { createPino, parseLogLevel, pinoLogger, type LogFormat, type LogLevel } from "../observability/logging.js";

interface ServeFlags extends SecurityFlags, LimitFlags, NotifyFlags {
  store: string;
  schema: string;
  migrate: boolean;
  metrics: boolean;
  metricsPort?: number;
  metricsHost: string;
  host: string;
  grpcPort: number;
  httpPort: number;
  methods: string[];
  demo: boolean;
  worker: boolean;
  concurrency: number;
  lease: number;
  retention: number;
  maxWait: number;
  shutdownGrace: number;
  pageTokenSecret?: string;
  pageTokenTtl: number;
  defaultPageSize: number;
  maxPageSize: number;
  errorDomain?: string;
  collection: string;
  parentPattern: string;
  disable: DisabledMethods;
  profile?: string;
  ui: boolean;
  uiPath: string;
  logLevel: LogLevel;
  logFormat?: LogFormat;
}

export function serveCommand(): Command {
  const command = new Command("serve").description("serve google.longrunning.Operations and your long-running methods over gRPC and REST");
  for (const option of storeOptions()) command.addOption(option);
  command
    .addOption(new Option("--no-migrate", "do not apply schema migrations on start (run `longrun migrate` instead)"))
    .addOption(optionOf("host", "<host>"))
    .addOption(optionOf("grpcPort", "<port>", port, "(0: pick a free one)"))
    .addOption(optionOf("httpPort", "<port>", port, "(0: pick a free one)"))
    .addOption(new Option("--no-metrics", "serve no Prometheus metrics (/healthz and /readyz stay)"))
    .addOption(optionOf("metricsPort", "<port>", port, "(0: pick a free one)"))
    .addOption(optionOf("metricsHost", "<host>"))
    .addOption(new Option("--methods <module...>", "modules exporting `methods` (long-running method declarations)").env("LONGRUN_METHODS").default([]))
    .addOption(new Option("--demo", "also serve the demo (longrun.demo.v1.Demo/Sleep)").env("LONGRUN_DEMO").default(false))
    .addOption(new Option("--no-worker", "only serve RPCs; run no handlers in this process"))
    .addOption(new Option("--no-ui", "do not serve the web dashboard (nor the live stream it listens to)"))
    .addOption(optionOf("uiPath", "<path>"))
    .addOption(optionOf("logLevel", "<level>", parseLogLevel))
    .addOption(optionOf("logFormat", "<format>", undefined, "(default: json, pretty when standard error is a TTY)").choices(["json", "pretty"]))
    .addOption(optionOf("concurrency", "<n>", positiveInt))
    .addOption(optionOf("leaseMs", "<duration>", parseDuration))
    .addOption(optionOf("retentionMs", "<duration>", parseDuration))
    .addOption(optionOf("maxWaitMs", "<duration>", parseDuration))
    .addOption(optionOf("shutdownGraceMs", "<duration>", parseDuration, "(on SIGTERM; then their leases are released)"))
    .addOption(new Option("--page-token-secret <secret>", "HMAC key for page tokens (default: random per process)").env("LONGRUN_PAGE_TOKEN_SECRET"))
    .addOption(optionOf("pageTokenTtlMs", "<duration>", parseDuration))
    .addOption(optionOf("defaultPageSize", "<n>", positiveInt))
    .addOption(optionOf("maxPageSize", "<n>", positiveInt))
    // No default here: a profile's own domain applies unless the flag is given.
    .addOption(new Option("--error-domain <domain>", `${DEFAULTS.errorDomain.about} (default: the profile's, else "${DEFAULTS.errorDomain.shown}")`).env("LONGRUN_ERROR_DOMAIN"))
    .addOption(optionOf("collection", "<id>"))
    .addOption(
      new Option("--parent-pattern <pattern>", "name operations under a parent, e.g. projects/*/locations/* (names: {parent}/{collection}/{id})")
        .env("LONGRUN_PARENT_PATTERN")
        .default(""),
    )
    .addOption(
      new Option("--disable <methods>", "Operations methods answering UNIMPLEMENTED: comma-separated, each Method or rest:Method / grpc:Method")
        .env("LONGRUN_DISABLE")
        .default({}, "none")
        .argParser(parseDisabled),
    )
    .addOption(
      new Option(
        "--profile <name|file>",
        `deployment profile: ${profileNames().join(", ")}, or a profile module (.ts/.js) or JSON file (see docs/profiles.md); flags given explicitly override it`,
      ).env("LONGRUN_PROFILE"),
    );
  for (const option of limitOptions()) command.addOption(option);
  for (const option of notifyOptions()) command.addOption(option);
  for (const option of securityOptions()) command.addOption(option);
  return command.action(async (flags: ServeFlags, command: Command) => {
    await serve(flags, command);
  });
}

async function serve(flags: ServeFlags, command: Command): Promise<void> {
  // Before anything is opened: a bad TLS setting is a usage error, not a half-started server.
  let security: ServeSecurity;
  let notify: ServeNotify;
  try {
    security = serveSecurity(flags);
    notify = serveNotify(flags);
  } catch (err) {
    if (err instanceof CliError) command.error(`error: ${err.message}`, { exitCode: err.code });
    throw err;
  }
  // The profile comes with the plug-ins it names (proto files of its controls, filter dialects, methods,
  // the resource its lists are about).
  const profileModule = flags.profile === undefined ? undefined : await resolveProfile(flags.profile);
  const profile = profileModule?.profile;
  // With a profile, a setting it also makes is passed on only when given (flag or environment), so that
  // the flags' defaults do not override the profile.
  const given = <K extends keyof ServeFlags>(key: K): ServeFlags[K] | undefined =>
    profile === undefined || command.getOptionValueSource(key) !== "default" ? flags[key] : undefined;
  const collection = given("collection");
  const parent = given("parentPattern");
  const names =
    collection === undefined && parent === undefined
      ? undefined
      : { ...profile?.names, ...(collection !== undefined && { collection }), ...(parent !== undefined && { parent }) };
  const methods = [
    ...(flags.demo ? demoMethods : []),
    ...(await Promise.all(flags.methods.map(loadMethods))).flat(),
    ...(profileModule?.methods ?? []),
  ];
  // Lines on standard error (JSON, or pretty for people); what is printed below on standard output is the banner.
  const logger = createPino({ level: flags.logLevel, format: flags.logFormat });
  const log = pinoLogger(logger);
  const store = await openStore(flags.store, { schema: flags.schema, migrate: flags.migrate, log });
  const server = await startServer({
    log,
    store,
    methods,
    grpc: { host: flags.host, port: flags.grpcPort },
    http: { host: flags.host, port: flags.httpPort },
    worker: flags.worker,
    concurrency: flags.concurrency,
    leaseMs: flags.lease,
    retentionMs: flags.retention,
    maxWaitMs: flags.maxWait,
    shutdownGraceMs: flags.shutdownGrace,
    pageTokenSecret: flags.pageTokenSecret,
    pageTokenTtlMs: flags.pageTokenTtl,
    profile,
    files: profileModule?.files,
    filterDialects: profileModule?.filterDialects,
    listScope: profileModule?.listScope,
    defaultPageSize: given("defaultPageSize"),
    maxPageSize: given("maxPageSize"),
    errorDomain: flags.errorDomain,
    names,
    disabled: given("disable"),
    metrics: flags.metrics && { ...(flags.metricsPort === undefined ? {} : { port: flags.metricsPort, host: flags.metricsHost }) },
    ...serveLimits(flags),
    ...notify,
    notificationNaming: profileModule?.notificationNaming,
    ui: flags.ui ? { path: flags.uiPath } : false,
    ...security,
  });
  console.log(`longrun: store ${redactUrl(flags.store)}${isPostgresUrl(flags.store) ? ` (schema ${flags.schema})` : ""}`);
  if (profile) console.log(`longrun: profile ${profile.name}`);
  console.log(`longrun: methods ${[...server.runtime.methods.keys()].join(", ") || "(none: Operations service only)"}`);
  if (security.auth !== undefined) console.log(`longrun: auth ${typeof security.auth === "string" ? security.auth : "(given)"}${security.insecure ? " (--insecure)" : ""}`);
  for (const target of notify.notify ?? []) console.log(`longrun: notify ${redactedUrl(new URL(target.url))}`);
  if (security.tls) console.log(`longrun: TLS${security.tls.clientCa ? ", client certificates required (mutual TLS)" : ""}`);
  const shown = shownAddresses(server.grpcAddress, server.httpUrl, security.tls !== undefined);
  console.log(`longrun: gRPC listening on ${shown.grpc}`);
  console.log(`longrun: REST listening on ${shown.rest}`);
  logger.info({ grpc: server.grpcAddress, rest: server.httpUrl, methods: server.runtime.methods.size }, "serving");
  if (server.metricsUrl) console.log(`longrun: metrics and health on ${server.metricsUrl}/metrics, /healthz, /readyz`);
  if (server.uiUrl !== undefined) console.log(`longrun: dashboard at ${shown.rest.replace(/\/$/, "")}${server.uiUrl.slice(server.httpUrl?.length ?? 0)}`);
  const shutdown = (signal: string): void => {
    console.log(`longrun: ${signal}: shutting down`);
    logger.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error("longrun: shutdown failed", err);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

async function loadMethods(module: string): Promise<MethodDeclaration[]> {
  const url = pathToFileURL(resolve(module)).href;
  const loaded = (await import(url)) as { methods?: unknown };
  if (!Array.isArray(loaded.methods)) throw new Error(`${module} does not export \`methods\` (an array of defineMethod(...))`);
  return loaded.methods as MethodDeclaration[];
}


/** "ListOperations,rest:CancelOperation" → { grpc: [ListOperations], rest: [ListOperations, CancelOperation] } */
export function parseDisabled(value: string): DisabledMethods {
  const grpc: OptionalMethod[] = [];
  const rest: OptionalMethod[] = [];
  for (const entry of value.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [transport, method] = entry.includes(":") ? (entry.split(":", 2) as [string, string]) : ["", entry];
    if (!OPTIONAL_METHODS.includes(method as OptionalMethod)) {
      throw new Error(`"${method}" cannot be disabled; one of ${OPTIONAL_METHODS.join(", ")} (GetOperation is always served)`);
    }
    if (transport !== "" && transport !== "rest" && transport !== "grpc") throw new Error(`"${transport}" is not a transport (rest or grpc)`);
    if (transport !== "rest") grpc.push(method as OptionalMethod);
    if (transport !== "grpc") rest.push(method as OptionalMethod);
  }
  return { grpc, rest };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${value}" is not a port (0-65535)`);
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${value}" is not a positive integer`);
  return n;
}
