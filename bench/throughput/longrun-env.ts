/** The environment of a longrun process the throughput benchmark starts (`longrun serve` or the drain worker). */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LongrunConfig } from "../support/longrun-store.js";

const CPU_PROFILE_HOOK = fileURLToPath(new URL("../support/cpu-profile.ts", import.meta.url));

/** The environment that sets a longrun process's concurrency (`longrun serve` and the drain worker read it). */
export function concurrencyEnv(config: LongrunConfig): Record<string, string> {
  return config.concurrency === undefined ? {} : { LONGRUN_CONCURRENCY: String(config.concurrency) };
}

/** The environment that makes a longrun process write a CPU profile into `dir`/`name`/ when it exits. */
export function profileEnv(dir: string | undefined, name: string): Record<string, string> {
  return dir ? { NODE_OPTIONS: `--import tsx --import ${CPU_PROFILE_HOOK}`, LONGRUN_CPU_PROFILE_DIR: join(dir, name) } : {};
}
