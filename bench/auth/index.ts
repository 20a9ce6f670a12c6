/** The auth benchmark: GetOperation with auth on (API key, JWT) against the same server with auth off. */
import { defineBenchmark } from "../support/args.js";

export const auth = defineBenchmark({
  name: "auth",
  summary: "GetOperation req/s with auth on (API key, JWT) and off, taking turns; the goal is ≥ 90% of off",
  options: {
    seconds: { type: "number", default: 5, help: "seconds per measured run" },
    repeat: { type: "integer", default: 5, help: "measured runs per variant, transport and concurrency" },
    warmup: { type: "number", default: 3, help: "seconds of warm-up before them" },
    concurrency: { type: "integers", default: [1, 64], help: "calls (gRPC) or connections (REST) in flight" },
    transports: { type: "list", choices: ["grpc", "rest"], default: ["grpc", "rest"], help: "transports to load" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
