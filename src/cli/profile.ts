/**
 * `longrun serve --profile <name|file>`: which profile module a name or a path stands for. `longrun` is
 * built in; the other names are the profile modules the package ships with its examples,
 * `examples/<name>/profile.ts`, found by path at run time — src/ imports nothing from examples/, and a
 * name that has no such module is read as a file. A file is a profile module (`.ts`, `.mts`, `.js`,
 * `.mjs`) or a JSON profile (anything else); see docs/profiles.md.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { longrunProfile, loadProfileModule, type ProfileModule } from "../profiles/index.js";

/** The folder whose `<name>/profile.ts` modules are the named profiles besides `longrun`. */
const NAMED_PROFILES_DIR = fileURLToPath(new URL("../../examples/", import.meta.url));
// Run from the sources, the examples are TypeScript; from a build (`npm run build`: dist/), JavaScript, as this file.
const PROFILE_FILE = import.meta.url.endsWith(".ts") ? "profile.ts" : "profile.js";
/** A profile's name: what may stand for a folder of NAMED_PROFILES_DIR. */
const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The names `--profile` accepts, the built-in one first. */
export function profileNames(): string[] {
  let folders: string[] = [];
  try {
    folders = readdirSync(NAMED_PROFILES_DIR, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && NAME.test(entry.name) && existsSync(join(NAMED_PROFILES_DIR, entry.name, PROFILE_FILE)))
      .map((entry) => entry.name)
      .sort();
  } catch {
    // An installation without the examples folder has only the built-in profile.
  }
  return [longrunProfile.name, ...folders];
}

/** The profile module `--profile` names: the built-in profile, a named one, or a file. */
export async function resolveProfile(nameOrPath: string): Promise<ProfileModule> {
  if (nameOrPath === longrunProfile.name) return { profile: longrunProfile };
  if (NAME.test(nameOrPath)) {
    const named = join(NAMED_PROFILES_DIR, nameOrPath, PROFILE_FILE);
    if (existsSync(named)) return loadProfileModule(named);
    if (!existsSync(nameOrPath)) {
      throw new Error(`no profile named "${nameOrPath}" (named profiles: ${profileNames().join(", ")}); or give a profile file`);
    }
  }
  return loadProfileModule(nameOrPath);
}
