import { Option } from "commander";
import { DEFAULTS, type DefaultName, type DefaultSetting } from "../core/defaults.js";

/**
 * The option of a setting in the table of defaults: its flag, environment variable, description and
 * default all come from `DEFAULTS`, so the CLI, the library and docs/configuration.md cannot disagree.
 * A setting whose value is undefined (a credential, say) gets no default.
 */
export function optionOf(name: DefaultName, argument: string, parse?: (value: string) => unknown, note?: string): Option {
  const setting: DefaultSetting<unknown> = DEFAULTS[name];
  if (setting.flag === undefined || setting.env === undefined) throw new Error(`${name} has no flag`);
  const option = new Option(`${setting.flag} ${argument}`, note === undefined ? setting.about : `${setting.about} ${note}`).env(setting.env);
  if (setting.value !== undefined) option.default(setting.value, setting.shown);
  return parse === undefined ? option : option.argParser(parse);
}

/** A repeatable flag whose value (or environment variable) may also be a comma-separated list. */
export function collectList(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(",").map((v) => v.trim()).filter((v) => v !== "")];
}
