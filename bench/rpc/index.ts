/** The rpc benchmark: GetOperation served by longrun against a bare server doing only what any server must. */
import { defineBenchmark } from "../support/args.js";

export const rpc = defineBenchmark({
  name: "rpc",
  summary: "GetOperation req/s, longrun against a bare grpc-js / node:http server, taking turns",
  options: {
    seconds: { type: "number", default: 5, help: "seconds per measured run" },
    repeat: { type: "integer", default: 5, help: "measured runs per target, transport and concurrency" },
    warmup: { type: "number", default: 5, help: "seconds of warm-up before them" },
    concurrency: { type: "integers", default: [1, 64], help: "calls (gRPC) or connections (REST) in flight" },
    transports: { type: "list", choices: ["grpc", "rest"], default: ["grpc", "rest"], help: "transports to load" },
    profile: { type: "boolean", help: "then profile one more longrun process per transport (bench/results/profiles/)" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
