import { performance } from "node:perf_hooks";
import { Code, codeName } from "../core/code.js";
import type { Endpoint } from "../service/endpoint.js";
import { observeAnswer } from "./answered.js";
import type { Metrics } from "./metrics.js";
import type { CounterSeries } from "./series.js";

/**
 * The endpoints, each counted (`longrun_rpc_requests_total{method,transport,code}`) and timed
 * (`longrun_rpc_duration_seconds{method,transport}`) around its invoke — so both transports are, and
 * the guard's refusals too when it is inside. `method` is the RPC's full name: a bounded set. A call the
 * transport refuses before it reaches an endpoint (an unknown path, an undecodable body) is not counted.
 */
export function instrumentEndpoints(endpoints: readonly Endpoint[], metrics: Metrics): Endpoint[] {
  return endpoints.map((endpoint) => {
    const method = `${endpoint.method.parent.typeName}.${endpoint.method.name}`;
    const series = (transport: "grpc" | "rest") => ({
      duration: metrics.rpcDurationSeries.series({ method, transport }),
      // By google.rpc.Code, each made at its first call.
      requests: [] as CounterSeries[],
    });
    const byTransport = { grpc: series("grpc"), rest: series("rest") };
    const invoke = endpoint.invoke.bind(endpoint);
    const count = (transport: "grpc" | "rest", code: Code, seconds: number): void => {
      const { duration, requests } = byTransport[transport];
      duration.observe(seconds);
      (requests[code] ??= metrics.rpcRequestSeries.series({ method, transport, code: codeName(code) })).inc();
    };
    // Counted once the transport has written the answer (a tick later, before any other I/O is read): a
    // client waits for the answer, not for the counting.
    const counted = (transport: "grpc" | "rest", code: Code, started: number): void =>
      process.nextTick(count, transport, code, (performance.now() - started) / 1000);
    return {
      ...endpoint,
      invoke: (request, ctx) => {
        const started = performance.now();
        return observeAnswer(invoke, request, ctx, (code) => counted(ctx.transport, code, started));
      },
    };
  });
}
