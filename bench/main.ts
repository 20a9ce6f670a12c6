/** `npm run bench -- <name> [args]`: runs one benchmark from bench/<name>.ts. None runs in `npm test`. */
const [name, ...args] = process.argv.slice(2);
const benchmarks: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  e2e: () => import("./e2e.js"),
  wake: () => import("./wake.js"),
  list: () => import("./list.js"),
  throughput: () => import("./throughput.js"),
  latency: () => import("./latency.js"),
  wait: () => import("./wait.js"),
  rpc: () => import("./rpc.js"),
};
const load = name ? benchmarks[name] : undefined;
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(benchmarks).join("|")}> [args]`);
  process.exit(2);
}
await (await load()).run(args);
