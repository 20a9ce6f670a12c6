// docs/architecture.md's table of layers against the imports of src/: what the page says is what the code does.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../..");
const src = join(repo, "src");
const MAX_LINES = 400;
const SEED_SERVICES = /storagetransfer|routeoptimization|cloudsearch/i;

interface Layer {
  floor: number;
  mayImport: Set<string>;
}

/** The table under "## Layers": `| floor | \`unit\` | job | may import |`. */
function layersFromDocs(): Map<string, Layer> {
  const page = readFileSync(join(repo, "docs/architecture.md"), "utf8");
  const section = page.slice(page.indexOf("## Layers"), page.indexOf("\n## ", page.indexOf("## Layers") + 1));
  const layers = new Map<string, Layer>();
  for (const line of section.split("\n")) {
    const row = /^\| (\d+) \| `([^`]+)` \| .* \| ([^|]+) \|$/.exec(line);
    if (!row) continue;
    const mayImport = row[3]!.trim() === "—" ? [] : row[3]!.split(",").map((unit) => unit.trim());
    layers.set(row[2]!, { floor: Number(row[1]), mayImport: new Set(mayImport) });
  }
  return layers;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** `runtime` for src/runtime/x.ts, `server.ts` for src/server.ts. */
function unitOf(path: string): string {
  return relative(src, path).split("/")[0]!;
}

/** The local files a source file imports, statically or by a literal dynamic import, types included. */
function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s*["'](\.{1,2}\/[^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers.map((specifier) => normalize(join(dirname(path), specifier)).replace(/\.js$/, ".ts"));
}

const files = sourceFiles(src).filter((path) => !path.startsWith(join(src, "gen") + "/"));
const layers = layersFromDocs();

describe("architecture (docs/architecture.md)", () => {
  it("the table names every unit of src/, and each may import only from lower floors", () => {
    const units = new Set(sourceFiles(src).map(unitOf));
    assert.deepEqual([...units].sort(), [...layers.keys()].sort());
    for (const [unit, layer] of layers) {
      for (const below of layer.mayImport) {
        const target = layers.get(below);
        assert.ok(target, `${unit} may import ${below}, which the table does not list`);
        assert.ok(target.floor < layer.floor, `${unit} (floor ${layer.floor}) may import ${below} (floor ${target.floor}): not below it`);
      }
    }
  });

  it("every import in src/ is one the table allows", () => {
    const refused: string[] = [];
    for (const file of files) {
      const from = unitOf(file);
      for (const target of importsOf(file)) {
        if (!target.startsWith(src + "/")) {
          refused.push(`${relative(repo, file)} imports ${relative(repo, target)}, outside src/`);
          continue;
        }
        const to = unitOf(target);
        if (to !== from && !layers.get(from)?.mayImport.has(to)) refused.push(`${relative(repo, file)} (${from}) imports ${relative(repo, target)} (${to})`);
      }
    }
    assert.deepEqual(refused, []);
  });

  it("no import cycle between files of src/", () => {
    const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => !target.startsWith(join(src, "gen") + "/"))]));
    const state = new Map<string, "open" | "closed">();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(src, f)).join(" → "));
        else if (!state.has(next) && graph.has(next)) visit(next, [...path, next]);
      }
      state.set(file, "closed");
    };
    for (const file of files) if (!state.has(file)) visit(file, [file]);
    assert.deepEqual(cycles, []);
  });

  it(`no file of src/ (generated code aside) is longer than ${MAX_LINES} lines`, () => {
    const long = files.map((file) => ({ file: relative(repo, file), lines: readFileSync(file, "utf8").split("\n").length - 1 })).filter((f) => f.lines > MAX_LINES);
    assert.deepEqual(long, []);
  });

  it("src/ names none of the seed services (they are examples, plugged in through profile modules)", () => {
    const naming = sourceFiles(src).filter((file) => SEED_SERVICES.test(readFileSync(file, "utf8")) || SEED_SERVICES.test(relative(src, file)));
    assert.deepEqual(naming.map((file) => relative(repo, file)), []);
  });
});
