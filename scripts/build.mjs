#!/usr/bin/env node
/**
 * `npm run build`: the TypeScript of src/, examples/, bench/ and test/support/ as plain JavaScript in dist/,
 * each file where it was (dist/src/cli/main.js), so the relative paths the code reads at run time (the
 * dashboard's assets, the worker threads' plain JavaScript, the example profiles) hold there too: every
 * other file is copied beside them.
 *
 * What for: running longrun from its sources goes through tsx, whose loader thread and compile caches cost
 * ~49 MB of resident memory (an idle `longrun serve --demo`: 164 MB through tsx, 115 MB compiled) and keep
 * every function wrapped to keep its name. A deployment runs `node dist/src/cli/main.js serve`; the
 * benchmarks run their servers from here (bench/support/server-process.ts builds it first).
 *
 * Transpiled file by file with esbuild (what tsx itself does, ahead of time), not bundled, and not type-checked:
 * `npm run typecheck` does that. About half a second.
 */
import { cpSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = ["src", "examples", "bench", "test/support"];
/** The files under `dir`: TypeScript to transpile, and the rest (worker threads in plain JavaScript, the dashboard's assets) to copy as they are. */
function filesUnder(dir, found = { typescript: [], other: [] }) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) filesUnder(path, found);
    else if (/\.m?ts$/.test(entry.name)) {
      if (!entry.name.endsWith(".d.ts")) found.typescript.push(path);
    } else found.other.push(path);
  }
  return found;
}

/**
 * Writes `out` (dist/ of this checkout by default) afresh; returns the number of files transpiled. `out` must
 * be inside the checkout, where the compiled files find node_modules.
 */
export async function buildDist({ root = ROOT, out = join(root, "dist") } = {}) {
  rmSync(out, { recursive: true, force: true });
  const found = { typescript: [], other: [] };
  for (const dir of SOURCES) if (statSync(join(root, dir), { throwIfNoEntry: false })?.isDirectory()) filesUnder(join(root, dir), found);
  const entryPoints = found.typescript;
  await build({
    entryPoints,
    outdir: out,
    outbase: root,
    outExtension: { ".js": ".js" },
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    logLevel: "warning",
  });
  for (const file of found.other) cpSync(file, join(out, relative(root, file)));
  return entryPoints.length;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const count = await buildDist();
  console.log(`dist/: ${count} files in ${Math.round(performance.now() - started)} ms (${relative(process.cwd(), join(ROOT, "dist")) || "."})`);
}
