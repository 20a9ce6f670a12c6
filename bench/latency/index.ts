/** The latency benchmark: start → handler running on an idle system, longrun beside its peers. */
import { defineBenchmark } from "../support/args.js";

export const LATENCY_SYSTEMS = ["longrun-sqlite", "longrun-postgres", "graphile-worker", "graphile-worker-batched", "pg-boss-notify", "bullmq"] as const;

export const latency = defineBenchmark({
  name: "latency",
  summary: "one start at a time on an idle system: the start call returning → the handler running",
  options: {
    n: { type: "integer", default: 300, help: "samples per system (after 20 warm-up starts)" },
    systems: { type: "list", choices: LATENCY_SYSTEMS, default: ["longrun-sqlite", "longrun-postgres", "graphile-worker"], help: "systems to run" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
