import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanContext, type SpanOptions, type TextMapGetter, type Tracer, type TracerProvider } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { Code, codeName } from "../core/code.js";
import { RpcError } from "../core/errors.js";
import type { ExecutionSpan, RuntimeTracing } from "../runtime/tracing.js";
import type { CallContext, Endpoint } from "../service/endpoint.js";
import type { OperationRecord } from "../store/store.js";
import { observeAnswer } from "./answered.js";
import { LazyContextManager } from "./context-manager.js";
import { spanBatchSettings } from "./span-batch-settings.js";
import { ThreadSpanProcessor } from "./span-thread.js";

/** Tracing settings of a server (ServerOptions.tracing). */
export interface TracingSettings {
  /**
   * Where spans go: your own provider (a test's with an InMemorySpanExporter, or your application's). The
   * server neither registers it globally nor shuts it down. @default one built from the OTEL_* variables
   */
  tracerProvider?: TracerProvider;
}

/** Codes a server span marks as an error (the server's fault, as OpenTelemetry's gRPC conventions have it). */
const SERVER_ERRORS = new Set<Code>([Code.UNKNOWN, Code.DEADLINE_EXCEEDED, Code.UNIMPLEMENTED, Code.INTERNAL, Code.UNAVAILABLE, Code.DATA_LOSS]);
/**
 * Spans start with their kind only, their attributes set just after: given to `startSpan`, the SDK copies
 * and checks them twice more (for the sampler, which none of OpenTelemetry's own samplers reads them for).
 */
const SERVER_SPAN: SpanOptions = { kind: SpanKind.SERVER };
const CONSUMER_SPAN: SpanOptions = { kind: SpanKind.CONSUMER };
/** A longer `tracestate` is not kept with an operation (W3C asks to propagate at least 512 characters). */
const MAX_TRACESTATE = 512;

const propagator = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<CallContext> = {
  get: (ctx, key) => ctx.header(key),
  keys: () => ["traceparent", "tracestate"],
};

/**
 * Whether the standard OpenTelemetry variables ask for traces: an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER=otlp`; not when `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER` names other exporters only (`none`).
 */
export function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env["OTEL_SDK_DISABLED"]?.trim().toLowerCase() === "true") return false;
  const exporters = env["OTEL_TRACES_EXPORTER"]?.split(",").map((e) => e.trim().toLowerCase()).filter((e) => e !== "");
  if (exporters !== undefined && exporters.length > 0) return exporters.includes("otlp");
  return Boolean(env["OTEL_EXPORTER_OTLP_ENDPOINT"] || env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
}

/**
 * A server's traces (docs/observability.md, "Traces"): a SERVER span per RPC (both transports, through the
 * endpoint wrapper), the W3C context of a start's span kept with its operation, and a span per handler
 * run in whichever instance runs it, a child of that context (RuntimeTracing). Made only when tracing is
 * on: otherwise nothing is wrapped and the runtime gets no tracing.
 */
export class Tracing implements RuntimeTracing {
  private readonly tracer: Tracer;

  private constructor(
    provider: TracerProvider,
    /** The provider built from the environment, shut down (its spans flushed) at close; not a given one. */
    private readonly owned: NodeTracerProvider | undefined,
  ) {
    this.tracer = provider.getTracer("longrun");
    // Handlers run inside `context.with`: that needs a context manager, which the API keeps globally. One
    // registered already (your application's SDK) is left in place. Ours starts AsyncLocalStorage only
    // when something reads the active context: longrun never does.
    const manager = new LazyContextManager().enable();
    if (!context.setGlobalContextManager(manager)) manager.disable();
  }

  /** The server's tracing: `settings`' provider, or one from the OTEL_* variables if they ask for traces; else none. */
  static open(settings: false | TracingSettings | undefined, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
    if (settings === false) return undefined;
    if (settings?.tracerProvider) return new Tracing(settings.tracerProvider, undefined);
    if (!tracingConfigured(env)) return undefined;
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ "service.name": env["OTEL_SERVICE_NAME"] || "longrun" }),
      // Batches as OTEL_BSP_* say, in a worker thread where the OTLP exporter runs, reading its endpoint,
      // headers and timeout from the OTEL_EXPORTER_OTLP_* variables.
      spanProcessors: [new ThreadSpanProcessor({ protocol: otlpProtocol(env), env, batch: spanBatchSettings(env) })],
    });
    // Handlers' own spans (through the API's global tracer) go where longrun's go, unless the
    // application registered a provider of its own.
    trace.setGlobalTracerProvider(provider);
    return new Tracing(provider, provider);
  }

  /** The endpoints, each answering inside a SERVER span joined to the caller's `traceparent`, if any. */
  endpoints(endpoints: readonly Endpoint[]): Endpoint[] {
    return endpoints.map((endpoint) => {
      const service = endpoint.method.parent.typeName;
      const method = endpoint.method.name;
      const name = `${service}/${method}`;
      const invoke = endpoint.invoke.bind(endpoint);
      // Made once per method: the attributes a span starts with, by transport.
      const grpcAttributes: Attributes = { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method };
      const httpAttributes: Attributes = { "rpc.system": "http", "rpc.service": service, "rpc.method": method };
      return {
        ...endpoint,
        invoke: (request, ctx) => {
          const parent = propagator.extract(ROOT_CONTEXT, ctx, headerGetter);
          const grpc = ctx.transport === "grpc";
          const span = this.tracer.startSpan(name, SERVER_SPAN, parent);
          span.setAttributes(grpc ? grpcAttributes : httpAttributes);
          ctx.traceContext = () => carrierOf(span);
          // Not made the active span (`context.with`): nothing an RPC runs starts spans of its own (its
          // store calls are batched with other calls'), and a start hands its context on explicitly.
          return observeAnswer(invoke, request, ctx, (code, err) => {
            if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof RpcError ? err.message : undefined });
            if (grpc) span.setAttribute("rpc.grpc.status_code", code);
            span.setAttribute("longrun.rpc.code", codeName(code));
            span.end();
          });
        },
      };
    });
  }

  /** A CONSUMER span `run <method>` for one attempt, a child of the context its start stored (if any). */
  execution(record: OperationRecord): ExecutionSpan {
    const parent = deserialize(record.traceContext);
    const span = this.tracer.startSpan(`run ${record.method}`, CONSUMER_SPAN, parent);
    span.setAttribute("longrun.operation.name", record.name);
    span.setAttribute("longrun.operation.method", record.method);
    span.setAttribute("longrun.attempt", record.attempt);
    const active = trace.setSpan(parent, span);
    return {
      context: active,
      run: (fn) => context.with(active, fn),
      end: (code, message) => {
        span.setAttribute("longrun.operation.code", codeName(code));
        if (code !== Code.OK) span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.end();
      },
    };
  }

  /** Flushes and shuts down the provider the server built; a given one is the caller's. */
  async close(): Promise<void> {
    if (!this.owned) return;
    await this.owned.shutdown();
  }
}

/**
 * The W3C carrier of a span's context (`traceparent`, and `tracestate` when short enough) as JSON, as kept
 * with an operation; undefined for a span whose context is not valid (tracing suppressed). A span that
 * records nothing (not sampled) has a valid one, and it is kept: its runs are not sampled either. Written
 * directly, as W3CTraceContextPropagator's `inject` writes the two headers: at every start, that and the
 * context it goes through cost more than the start's own span.
 */
function carrierOf(span: Span): string | undefined {
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, "0");
  const traceparent = `${W3C_VERSION}-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate === undefined || tracestate === "" || tracestate.length > MAX_TRACESTATE
    ? `{"traceparent":"${traceparent}"}`
    : `{"traceparent":"${traceparent}","tracestate":${JSON.stringify(tracestate)}}`;
}

const W3C_VERSION = "00";
/** What carrierOf writes without a tracestate: trace id, span id and flags by position, lower-case hex as W3C has them. */
const PLAIN = /^\{"traceparent":"00-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}"\}$/;
const TRACE_ID_AT = '{"traceparent":"00-'.length;

/** The context an operation's start kept, or the root context if none (or unreadable). */
function deserialize(stored: string | undefined): Context {
  if (stored === undefined) return ROOT_CONTEXT;
  const plain = plainParent(stored);
  if (plain !== undefined) return trace.setSpanContext(ROOT_CONTEXT, plain);
  let carrier: unknown;
  try {
    carrier = JSON.parse(stored);
  } catch {
    return ROOT_CONTEXT;
  }
  if (typeof carrier !== "object" || carrier === null) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, carrier as Record<string, unknown>, {
    get: (c, k) => (typeof c[k] === "string" ? c[k] : undefined),
    keys: (c) => Object.keys(c),
  });
}

/**
 * The parent a carrier of the commonest form holds — a lone `traceparent` as carrierOf writes it — read
 * by position; undefined for any other text (the propagator reads those). What it returns is checked as the
 * propagator checks a parsed one (ids of lower-case hex, not all zeros).
 */
function plainParent(stored: string): SpanContext | undefined {
  if (!PLAIN.test(stored)) return undefined;
  const at = TRACE_ID_AT;
  const parent: SpanContext = {
    traceId: stored.slice(at, at + 32),
    spanId: stored.slice(at + 33, at + 49),
    traceFlags: parseInt(stored.slice(at + 50, at + 52), 16),
    isRemote: true,
  };
  return isSpanContextValid(parent) ? parent : undefined;
}
/**
 * The OTLP/HTTP protocol the variables ask for: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, `http/protobuf` by default as the OpenTelemetry specification says
 * (smaller and cheaper to encode than `http/json`, the other one supported). gRPC is not.
 */
function otlpProtocol(env: NodeJS.ProcessEnv): string {
  return env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] || env["OTEL_EXPORTER_OTLP_PROTOCOL"] || "http/protobuf";
}
