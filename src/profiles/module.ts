/**
 * Profile modules: a deployment profile with the plug-ins it needs, as one module a deployment (or
 * `longrun serve --profile`) loads. A JSON profile is data only; a module can also bring the proto files
 * whose RPCs its `controls` name, the filter dialects its `listing.filterDialect` names, methods, and the
 * resource its lists are about (`listScope`).
 */
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { DescFile } from "@bufbuild/protobuf";
import type { FilterDialect } from "../filter/index.js";
import type { MethodDeclaration } from "../runtime/methods.js";
import type { NotificationNaming } from "../runtime/notifications.js";
import type { ListScope } from "../service/endpoints.js";
import { loadProfile, profileOptions, type DeploymentProfile, type FilterDialects } from "./profile.js";

/**
 * What a profile module exports. The names are ServerOptions' own, so `startServer({ store, methods: [],
 * ...profileModule })` serves the profile with its plug-ins.
 */
export interface ProfileModule {
  /** The profile (plain data; see DeploymentProfile). */
  profile: DeploymentProfile;
  /**
   * Proto files the server must know: those whose RPCs `profile.controls` name (Storage Transfer's
   * PauseTransferOperation), and any whose types appear in Any.
   */
  files?: readonly DescFile[];
  /** Filter dialects by name, for `profile.listing.filterDialect` to name. */
  filterDialects?: FilterDialects;
  /** Long-running methods served with the profile, beside any others the server is given. */
  methods?: readonly MethodDeclaration[];
  /**
   * With auth on, the resource a ListOperations request is about, for callers who may not list the whole
   * collection (ServerOptions.listScope): the Storage Transfer example reads `projectId` from its JSON
   * filter. For profiles whose operation names have no parent.
   */
  listScope?: ListScope;
  /** How the deployment names its completion notifications and what it adds to them (docs/notifications.md). */
  notificationNaming?: NotificationNaming;
}

/** Extensions loaded as JavaScript/TypeScript modules; any other file is read as a JSON profile. */
const MODULE_EXTENSIONS = new Set([".ts", ".mts", ".js", ".mjs"]);

/**
 * A profile module from a file: a `.ts`/`.js` module exporting `profile` (and optionally `files`,
 * `filterDialects`, `methods`, `listScope`), or a JSON profile (anything else), which is a module with only `profile`.
 * The profile is checked with the module's dialects, so a mistake stops start-up naming it.
 */
export async function loadProfileModule(path: string): Promise<ProfileModule> {
  if (!MODULE_EXTENSIONS.has(extname(path))) return { profile: loadProfile(path) };
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot load the profile module ${path}: ${(err as Error).message}`);
  }
  return checkProfileModule(loaded, path);
}

/** Checks what a module exports against ProfileModule (its values come from untyped code); throws naming the export. */
export function checkProfileModule(exports: Record<string, unknown>, source: string): ProfileModule {
  const { profile, files, filterDialects, methods, listScope, notificationNaming } = exports;
  if (typeof profile !== "object" || profile === null) throw new Error(`${source}: exports no \`profile\` (a DeploymentProfile)`);
  if (files !== undefined && !(Array.isArray(files) && files.every((f) => isDescFile(f)))) {
    throw new Error(`${source}: \`files\` must be a list of proto files (generated file_… descriptors)`);
  }
  if (filterDialects !== undefined) {
    if (typeof filterDialects !== "object" || filterDialects === null || Array.isArray(filterDialects)) {
      throw new Error(`${source}: \`filterDialects\` must be an object of name → dialect`);
    }
    for (const [name, dialect] of Object.entries(filterDialects)) {
      if (typeof dialect !== "function") throw new Error(`${source}: filterDialects.${name} must be a function (a FilterDialect)`);
    }
  }
  if (methods !== undefined && !Array.isArray(methods)) throw new Error(`${source}: \`methods\` must be an array of defineMethod(...)`);
  if (listScope !== undefined && typeof listScope !== "function") {
    throw new Error(`${source}: \`listScope\` must be a function (a ListOperationsRequest → the resource it lists, or undefined)`);
  }
  if (notificationNaming !== undefined) {
    const naming = notificationNaming as Record<string, unknown> | null;
    if (typeof naming !== "object" || naming === null || (naming["eventTypeName"] !== undefined && typeof naming["eventTypeName"] !== "function") || (naming["attributes"] !== undefined && typeof naming["attributes"] !== "function")) {
      throw new Error(`${source}: \`notificationNaming\` must be an object with functions eventTypeName and attributes (both optional)`);
    }
  }
  const module: ProfileModule = {
    profile: profile as DeploymentProfile,
    ...(files !== undefined && { files: files as DescFile[] }),
    ...(filterDialects !== undefined && { filterDialects: filterDialects as Record<string, FilterDialect> }),
    ...(methods !== undefined && { methods: methods as MethodDeclaration[] }),
    ...(listScope !== undefined && { listScope: listScope as ListScope }),
    ...(notificationNaming !== undefined && { notificationNaming: notificationNaming as NotificationNaming }),
  };
  // The whole profile, dialect names included, is checked now rather than when the server starts.
  profileOptions(module.profile, module.filterDialects);
  return module;
}

function isDescFile(value: unknown): value is DescFile {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "file";
}
