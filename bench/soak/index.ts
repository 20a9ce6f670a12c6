/**
 * The soak (issue 16): two `longrun serve --demo` instances on one PostgreSQL schema under a steady mixed
 * load for a bounded time, one of them killed with SIGKILL (and restarted) every minute; memory, file
 * descriptors, latency and errors recorded over time; at the end, every operation done and finished once.
 */
import { defineBenchmark } from "../support/args.js";

export const soak = defineBenchmark({
  name: "soak",
  summary: "two instances on PostgreSQL, mixed gRPC load at a fixed rate, one SIGKILLed every minute: RSS, fds, latency, errors over time",
  options: {
    minutes: { type: "number", default: 10, help: "how long the load runs, in minutes" },
    rate: { type: "number", default: 50, help: "calls per second (open loop: sent on schedule, whatever the replies)" },
    "sample-every": { type: "number", default: 10, help: "seconds between two samples (RSS, fds, latency, errors)" },
    "kill-every": { type: "number", default: 60, help: "seconds between two SIGKILLs (alternating instances; the first at half of it plus half a sample period; 0: none)" },
    "rss-bound": { type: "number", default: 50, help: "fails when the larger instance RSS grew by more than this percentage from minute 1 to the end" },
    lease: { type: "string", default: "5s", placeholder: "DURATION", help: "the instances' --lease (how soon a killed instance's operations are run again)" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
