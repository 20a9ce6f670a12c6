/** `npm run bench -- <name> [args]`: runs one benchmark. None runs in `npm test`. */
const [name, ...args] = process.argv.slice(2);
const benchmarks: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  e2e: () => import("./throughput/e2e.js"),
  wake: () => import("./wait/wake.js"),
  list: () => import("./list/index.js"),
  throughput: () => import("./throughput/index.js"),
  latency: () => import("./latency/index.js"),
  wait: () => import("./wait/index.js"),
  rpc: () => import("./rpc/index.js"),
};
const load = name ? benchmarks[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benchmarks).join("|")}> [args]`);
  process.exit(2);
}
await (await load()).run(args);
