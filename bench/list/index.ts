/** The list benchmark: ListOperations pages over a million operations, with the plans each store used. */
import { defineBenchmark } from "../support/args.js";

export const list = defineBenchmark({
  name: "list",
  summary: "ListOperations through the Store, page 1 and page 1,000, with AIP-160 filters, over N operations",
  options: {
    n: { type: "integer", default: 1000000, help: "operations stored in each store" },
    stores: { type: "list", choices: ["sqlite", "postgres"], default: ["sqlite", "postgres"], help: "stores to fill and list" },
    repeat: { type: "integer", default: 30, help: "reads of each page" },
    "no-analyze": { type: "boolean", help: "PostgreSQL: skip ANALYZE after the fill (planner statistics of the empty table)" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
