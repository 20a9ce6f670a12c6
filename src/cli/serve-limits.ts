import type { Option } from "commander";
import type { ServerOptions } from "../server.js";
import { optionOf } from "./setting-option.js";
import { parseSize } from "./size.js";

/** The size limits `longrun serve` sets (docs/api.md, "Limits"), named as the server's options. */
const LIMITS = [
  "maxBodyBytes",
  "maxDrainBytes",
  "maxHeaderBytes",
  "maxReceiveMessageBytes",
  "maxResponseBytes",
  "maxMetadataBytes",
  "maxErrorBytes",
  "maxListResponseBytes",
] as const;

type LimitName = (typeof LIMITS)[number];

/** `maxBodyBytes` → `maxBody`: commander's key for `--max-body`. */
type FlagKey<N extends string> = N extends `${infer Key}Bytes` ? Key : never;

/** The flags' values as commander keys them. */
export type LimitFlags = { [N in LimitName as FlagKey<N>]?: number };

export type ServeLimits = Pick<ServerOptions, LimitName>;

/** A `--max-…` flag for each limit, its default and environment variable from the table of defaults. */
export function limitOptions(): Option[] {
  return LIMITS.map((name) => optionOf(name, "<size>", parseSize));
}

/** The limits given (or defaulted) as server options. */
export function serveLimits(flags: LimitFlags): ServeLimits {
  const limits: ServeLimits = {};
  for (const name of LIMITS) {
    const value = flags[flagKey(name)];
    if (value !== undefined) limits[name] = value;
  }
  return limits;
}

function flagKey(name: LimitName): FlagKey<LimitName> {
  return name.slice(0, -"Bytes".length) as FlagKey<LimitName>;
}
