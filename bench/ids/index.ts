/**
 * `npm run bench -- ids`: what the order of operation ids costs the SQLite store's writes — per row of
 * create, claim, finish and read, with random ids (as before 2026-12-07) and time-ordered ones (src/core/ids.ts).
 */
import { defineBenchmark } from "../support/args.js";

export const ids = defineBenchmark({
  name: "ids",
  summary: "the SQLite store's create, claim, finish and read per row, with random and with time-ordered operation ids, taking turns",
  options: {
    rows: { type: "integer", default: 40000, help: "operations written per run (the table grows to this)" },
    batch: { type: "integer", default: 64, help: "operations per create, claim and finish" },
    rounds: { type: "integer", default: 2, help: "runs of each kind of id, taking turns" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
