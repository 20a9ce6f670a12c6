import { performance } from "node:perf_hooks";
import { pino, destination, type Logger as Pino, type LevelWithSilent } from "pino";
import { PinoPretty } from "pino-pretty";
import { Code, codeName } from "../core/code.js";
import type { LogFields, Logger } from "../core/logger.js";
import type { Endpoint } from "../service/endpoint.js";
import { observeAnswer } from "./answered.js";

/** The levels `--log-level` accepts (pino's). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "json" | "pretty";

export interface LoggingSettings {
  /** @default "info" */
  level?: LogLevel;
  /** JSON lines, or pino-pretty's lines for people. @default pretty when standard error is a TTY, else JSON */
  format?: LogFormat;
  /** Where the lines go (tests). @default standard error, written synchronously (nothing lost at exit) */
  stream?: NodeJS.WritableStream;
}

/**
 * Field names whose values are never written, wherever they appear in a line (one level down too):
 * longrun passes no credential to its logger, this is the net under that.
 */
const REDACTED = ["apiKey", "authorization", "token", "secret", "password", "pageTokenSecret", "notifySecret"];

/** A pino logger as `longrun serve` uses it: JSON on standard error, or pretty (in process, no worker). */
export function createPino(settings: LoggingSettings = {}): Pino {
  const format = settings.format ?? (process.stderr.isTTY ? "pretty" : "json");
  const stream =
    format === "pretty"
      ? PinoPretty({ destination: settings.stream ?? 2, sync: true, colorize: settings.stream === undefined && process.stderr.isTTY === true })
      : (settings.stream ?? destination({ dest: 2, sync: true }));
  return pino(
    {
      name: "longrun",
      level: settings.level ?? "info",
      redact: { paths: [...REDACTED, ...REDACTED.map((f) => `*.${f}`)], censor: "[redacted]" },
    },
    stream,
  );
}

/**
 * longrun's `Logger` over a pino logger: a line with an error is `error` (the error under `err`), one
 * without is `warn`, `info` is `info`; the fields go on the line as they are. `debug` is there only when
 * pino writes it (its callers skip building lines otherwise); `info` always, pino's level deciding.
 */
export function pinoLogger(logger: Pino): Logger {
  const log: Logger = (message, err, fields) => {
    if (err === undefined) logger.warn(fields ?? {}, message);
    else logger.error({ ...fields, err }, message);
  };
  log.info = (message, fields) => logger.info(fields ?? {}, message);
  if (logger.isLevelEnabled("debug")) log.debug = (message, fields) => logger.debug(fields ?? {}, message);
  return log;
}

/** Parses `--log-level`. */
export function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new Error(`"${value}" is not a log level (${LOG_LEVELS.join(", ")})`);
  return value as LevelWithSilent as LogLevel;
}

/**
 * The endpoints, each call logged at `debug` once answered (request id, method, transport, code, ms) —
 * when the logger writes debug lines; as they are otherwise, at no cost.
 */
export function logEndpoints(endpoints: Endpoint[], log: Logger): Endpoint[] {
  const debug = log.debug;
  if (debug === undefined) return endpoints;
  return endpoints.map((endpoint) => {
    const method = `${endpoint.method.parent.typeName}.${endpoint.method.name}`;
    const invoke = endpoint.invoke.bind(endpoint);
    const line = (ctx: Parameters<Endpoint["invoke"]>[1], code: Code, started: number): LogFields => ({
      requestId: ctx.requestId,
      method,
      transport: ctx.transport,
      code: codeName(code),
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
    return {
      ...endpoint,
      invoke: (request, ctx) => {
        const started = performance.now();
        return observeAnswer(invoke, request, ctx, (code) => debug("rpc", line(ctx, code, started)));
      },
    };
  });
}
