/**
 * `npm run bench -- floor`: the drain's physical limit on each store — the store's own claim and finish
 * statements in a loop, no runtime — beside longrun's drain in the same run.
 */
import { defineBenchmark } from "../support/args.js";

export const floor = defineBenchmark({
  name: "floor",
  summary: "the drain's floor: the store's claim + finish statements alone (batches of 64 and 500) beside longrun's drain",
  options: {
    stores: { type: "list", choices: ["sqlite", "postgres"], default: ["sqlite", "postgres"], help: "stores to measure" },
    n: { type: "integer", default: 20000, help: "operations per run" },
    batches: { type: "list", default: ["64", "500"], help: "claim sizes of the floor (64: longrun's default concurrency)" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
