/**
 * The one argument parser of `npm run bench -- <name> [flags]`: each benchmark declares its flags once
 * (type, default, one line of help), and gets them back parsed, checked and typed; `--help` prints the same
 * declarations. Built on node:util's parseArgs (strict: an unknown flag or a stray argument is an error,
 * not silently ignored, so a mistyped flag cannot quietly measure the default).
 */
import { parseArgs } from "node:util";

interface OptionBase {
  /** One line for --help: what the flag sets, with its unit. */
  help: string;
}

/** A flag of a benchmark, as declared. */
export type OptionSpec =
  | (OptionBase & { type: "integer"; default: number })
  | (OptionBase & { type: "number"; default: number })
  | (OptionBase & { type: "string"; default?: string; placeholder?: string })
  | (OptionBase & { type: "choice"; choices: readonly string[]; default: string })
  /** Comma-separated names, e.g. `--systems a,b`; without a default, undefined when not given. */
  | (OptionBase & { type: "list"; choices?: readonly string[]; default?: readonly string[] })
  /** Comma-separated integers, e.g. `--concurrency 1,64`. */
  | (OptionBase & { type: "integers"; default: readonly number[] })
  | (OptionBase & { type: "boolean" });

export type OptionSpecs = Record<string, OptionSpec>;

/** The parsed value of one flag, typed from its declaration. */
export type ArgValue<S extends OptionSpec> = S extends { type: "integer" | "number" }
  ? number
  : S extends { type: "boolean" }
    ? boolean
    : S extends { type: "choice"; choices: readonly (infer C)[] }
      ? C
      : S extends { type: "integers" }
        ? number[]
        : S extends { type: "list" }
          ? (S extends { choices: readonly (infer C)[] } ? C[] : string[]) | (S extends { default: readonly string[] } ? never : undefined)
          : S extends { type: "string"; default: string }
            ? string
            : string | undefined;

export type ArgsOf<O extends OptionSpecs> = { -readonly [K in keyof O]: ArgValue<O[K]> };

export interface Benchmark<O extends OptionSpecs = OptionSpecs> {
  /** What `npm run bench -- <name>` calls it. */
  name: string;
  /** One line for the list of benchmarks. */
  summary: string;
  options: O;
  /** Imports the implementation only when run, so that `--help` loads no peer library. */
  run(args: ArgsOf<O>): Promise<void>;
}

/** Declares a benchmark; `const` keeps the choices as literal types, so `run` gets them typed. */
export function defineBenchmark<const O extends OptionSpecs>(benchmark: Benchmark<O>): Benchmark<O> {
  return benchmark;
}

export class UsageError extends Error {}

/** Parses `argv` against the benchmark's flags; throws a UsageError naming the flag on any mistake. */
export function parseBenchmarkArgs<O extends OptionSpecs>(benchmark: Benchmark<O>, argv: readonly string[]): ArgsOf<O> {
  const config: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, spec] of Object.entries(benchmark.options)) config[name] = { type: spec.type === "boolean" ? "boolean" : "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    throw new UsageError(`${benchmark.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(benchmark.options)) parsed[name] = convert(benchmark.name, name, spec, values[name]);
  return parsed as ArgsOf<O>;
}

function convert(benchmark: string, name: string, spec: OptionSpec, raw: string | boolean | undefined): unknown {
  const fail = (why: string): never => {
    throw new UsageError(`${benchmark}: --${name} ${String(raw)}: ${why}`);
  };
  if (spec.type === "boolean") return raw === true;
  if (typeof raw === "boolean") return fail("takes a value");
  // Lists are copied, so that a benchmark changing its array cannot change the declared default.
  if (raw === undefined) return Array.isArray(spec.default) ? [...spec.default] : spec.default;
  switch (spec.type) {
    case "integer": {
      const value = Number(raw);
      return Number.isSafeInteger(value) && value >= 0 ? value : fail("not a whole number ≥ 0");
    }
    case "number": {
      const value = Number(raw);
      return raw.trim() !== "" && Number.isFinite(value) && value >= 0 ? value : fail("not a number ≥ 0");
    }
    case "string":
      return raw;
    case "choice":
      return spec.choices.includes(raw) ? raw : fail(`one of ${spec.choices.join(", ")}`);
    case "list": {
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (items.length === 0) fail("an empty list");
      const unknown = spec.choices ? items.filter((item) => !spec.choices!.includes(item)) : [];
      return unknown.length === 0 ? items : fail(`unknown ${unknown.join(", ")}; choose among ${spec.choices!.join(", ")}`);
    }
    case "integers": {
      const items = raw.split(",").map((s) => Number(s.trim()));
      return items.length > 0 && items.every((v) => Number.isSafeInteger(v) && v > 0) ? items : fail("not a list of whole numbers > 0");
    }
  }
}

/** The --help text of one benchmark: its flags, with defaults and choices. */
export function usage(benchmark: Benchmark): string {
  const lines = [`npm run bench -- ${benchmark.name} [flags]`, `  ${benchmark.summary}`, ""];
  const rows = Object.entries(benchmark.options).map(([name, spec]) => [flagSyntax(name, spec), describeOption(spec)] as const);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  return lines.join("\n");
}

function flagSyntax(name: string, spec: OptionSpec): string {
  switch (spec.type) {
    case "boolean":
      return `--${name}`;
    case "integer":
    case "number":
      return `--${name} N`;
    case "integers":
      return `--${name} N,N,…`;
    case "choice":
      return `--${name} ${spec.choices.join("|")}`;
    case "list":
      return `--${name} a,b,…`;
    case "string":
      return `--${name} ${spec.placeholder ?? "VALUE"}`;
  }
}

function describeOption(spec: OptionSpec): string {
  const parts = [spec.help];
  if (spec.type === "list" && spec.choices) parts.push(`(of ${spec.choices.join(", ")})`);
  if ("default" in spec && spec.default !== undefined) parts.push(`[default ${Array.isArray(spec.default) ? spec.default.join(",") : String(spec.default)}]`);
  return parts.join(" ");
}
