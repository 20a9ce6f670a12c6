/**
 * Deployment profiles: one declarative description of how a deployment presents google.longrunning.Operations
 * — names, REST bindings, which methods each transport serves, listing rules, custom methods on operations —
 * so that reproducing a real service's surface is configuration, not code. A profile is plain data (it
 * can live in a JSON file: `longrun serve --profile ./profile.json`); `profileOptions` turns it into
 * server options. A profile module (module.ts) adds the plug-ins a profile names.
 */
import { readFileSync } from "node:fs";
import type { OperationNamesOptions } from "../core/names.js";
import { aip160Dialect, type FilterDialect } from "../filter/index.js";
import type { AdditionalBinding, DisabledMethods, OperationControlOptions, OperationsMethodName } from "../service/endpoints.js";
import { OPTIONAL_METHODS, type OptionalMethod } from "../service/operations-service.js";

export interface DeploymentProfile {
  /** What the profile reproduces, for logs and errors. */
  name: string;
  /** Operation names: collection id and parent pattern. @default operations/{id} */
  names?: OperationNamesOptions;
  rest?: {
    /** Version prefix of the Operations bindings. @default "/v1" */
    prefix?: string;
    /** Operations methods served at their standard bindings. @default all five */
    methods?: readonly OperationsMethodName[];
    /** More routes, served whatever `methods` says (e.g. Cloud Search's `…/lro` list). */
    additionalBindings?: readonly AdditionalBinding[];
  };
  grpc?: {
    /** Operations methods served over gRPC. @default all five */
    methods?: readonly OperationsMethodName[];
  };
  /**
   * Custom methods on operations (AIP-136): an RPC whose request names an operation, mapped to the command
   * its handler sees in `ctx.control` (Storage Transfer's PauseTransferOperation → "pause"). `method` is
   * the RPC's full name, `package.Service.Method`; its proto must be among the server's files.
   */
  controls?: readonly ProfileControl[];
  listing?: {
    /** Page size when the request gives 0. @default 50 */
    defaultPageSize?: number;
    /** Larger page sizes are coerced down to this. @default 1000 */
    maxPageSize?: number;
    /** ListOperations without a filter is INVALID_ARGUMENT. @default false */
    filterRequired?: boolean;
    /**
     * The filter language, by name: "aip-160", or a dialect the server is given in `filterDialects`
     * (the Storage Transfer example's profile registers "storage-transfer-json"). @default "aip-160"
     */
    filterDialect?: FilterDialectName;
  };
  /** ErrorInfo.domain of errors. @default "longrun.dev" */
  errorDomain?: string;
  /** How the service names the permissions it checks when auth is on (docs/security.md). */
  permissions?: {
    /** The service part: `cloudtranslate` → `cloudtranslate.operations.get`. @default "longrun" */
    prefix?: string;
    /** The permission starting each long-running method, by the RPC's full name. @default `<prefix>.operations.<method>` */
    methods?: Readonly<Record<string, string>>;
  };
}

/** A filter dialect's name in a profile: "aip-160" (built in), or a key of the server's `filterDialects`. */
export type FilterDialectName = string;

/** Filter dialects by the name profiles give them (`listing.filterDialect`). */
export type FilterDialects = Readonly<Record<FilterDialectName, FilterDialect>>;

/** The dialect every server knows; others are registered through `filterDialects`. */
export const AIP160_DIALECT_NAME = "aip-160";

/** A custom method on operations as data: the RPC by its full name. */
export type ProfileControl = Omit<OperationControlOptions, "method"> & { method: string };

const ALL_METHODS: readonly OperationsMethodName[] = ["GetOperation", ...OPTIONAL_METHODS];

/** The server options a profile stands for (ServerOptions' names; spread them into startServer's). */
export interface ProfileOptions {
  names: OperationNamesOptions | undefined;
  restPrefix: string | undefined;
  disabled: DisabledMethods;
  additionalBindings: readonly AdditionalBinding[];
  controls: readonly ProfileControl[];
  defaultPageSize: number | undefined;
  maxPageSize: number | undefined;
  filterRequired: boolean | undefined;
  filterDialect: FilterDialect | undefined;
  errorDomain: string | undefined;
  permissionPrefix: string | undefined;
  methodPermissions: Readonly<Record<string, string>> | undefined;
}

/**
 * Checks a profile (it may come from a JSON file) and turns it into server options; throws naming the
 * problem. `filterDialects` are the dialects, beside "aip-160", that `listing.filterDialect` may name.
 */
export function profileOptions(profile: DeploymentProfile, filterDialects: FilterDialects = {}): ProfileOptions {
  checkProfile(profile);
  const unserved = (served: readonly OperationsMethodName[] | undefined): OptionalMethod[] => {
    if (served === undefined) return [];
    if (!served.includes("GetOperation")) throw new Error(`profile ${profile.name}: GetOperation must be served (AIP-151)`);
    return OPTIONAL_METHODS.filter((m) => !served.includes(m));
  };
  const dialect = profile.listing?.filterDialect;
  const dialects = knownDialects(filterDialects);
  if (dialect !== undefined && !Object.hasOwn(dialects, dialect)) {
    throw new Error(`profile ${profile.name}: listing.filterDialect must be one of ${Object.keys(dialects).join(", ")} (a dialect is registered through filterDialects)`);
  }
  return {
    names: profile.names,
    restPrefix: profile.rest?.prefix,
    disabled: { rest: unserved(profile.rest?.methods), grpc: unserved(profile.grpc?.methods) },
    additionalBindings: profile.rest?.additionalBindings ?? [],
    controls: profile.controls ?? [],
    defaultPageSize: profile.listing?.defaultPageSize,
    maxPageSize: profile.listing?.maxPageSize,
    filterRequired: profile.listing?.filterRequired,
    filterDialect: dialect === undefined ? undefined : dialects[dialect],
    errorDomain: profile.errorDomain,
    permissionPrefix: profile.permissions?.prefix,
    methodPermissions: profile.permissions?.methods,
  };
}

/** The built-in dialect and the registered ones; a registered one may not take the built-in's name. */
function knownDialects(registered: FilterDialects): FilterDialects {
  if (Object.hasOwn(registered, AIP160_DIALECT_NAME)) throw new Error(`filterDialects: "${AIP160_DIALECT_NAME}" is built in; register a dialect under another name`);
  return { [AIP160_DIALECT_NAME]: aip160Dialect, ...registered };
}

/** Reads a profile from a JSON file and checks it. */
export function loadProfile(path: string): DeploymentProfile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read the profile ${path}: ${(err as Error).message}`);
  }
  checkProfile(parsed as DeploymentProfile, path);
  return parsed as DeploymentProfile;
}

/**
 * A profile from JSON is untyped: check every key and type, so a typo is an error at start-up rather than
 * a setting silently ignored.
 */
function checkProfile(value: DeploymentProfile, source = "profile"): void {
  const where = (path: string) => `${source}: ${path}`;
  const object = (v: unknown, path: string, keys: readonly string[]): Record<string, unknown> | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${where(path)} must be an object`);
    for (const key of Object.keys(v)) {
      if (!keys.includes(key)) throw new Error(`${where(path)}: unknown key ${JSON.stringify(key)} (known: ${keys.join(", ")})`);
    }
    return v as Record<string, unknown>;
  };
  const string = (v: unknown, path: string) => {
    if (v !== undefined && typeof v !== "string") throw new Error(`${where(path)} must be a string`);
  };
  const positive = (v: unknown, path: string) => {
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw new Error(`${where(path)} must be a positive integer`);
  };
  const methodList = (v: unknown, path: string) => {
    if (v === undefined) return;
    if (!Array.isArray(v) || !v.every((m) => ALL_METHODS.includes(m))) throw new Error(`${where(path)} must be a list of ${ALL_METHODS.join(", ")}`);
  };

  const root = object(value, "(root)", ["$schema", "name", "names", "rest", "grpc", "controls", "listing", "errorDomain", "permissions"])!;
  if (typeof root.name !== "string" || root.name === "") throw new Error(`${where("name")} is required`);
  const names = object(root.names, "names", ["collection", "parent"]);
  string(names?.collection, "names.collection");
  string(names?.parent, "names.parent");
  const rest = object(root.rest, "rest", ["prefix", "methods", "additionalBindings"]);
  string(rest?.prefix, "rest.prefix");
  methodList(rest?.methods, "rest.methods");
  if (rest?.additionalBindings !== undefined) {
    if (!Array.isArray(rest.additionalBindings)) throw new Error(`${where("rest.additionalBindings")} must be a list`);
    rest.additionalBindings.forEach((b: unknown, i: number) => {
      const binding = object(b, `rest.additionalBindings[${i}]`, ["method", "get", "post", "delete", "body"])!;
      methodList([binding.method], `rest.additionalBindings[${i}].method`);
      for (const key of ["get", "post", "delete", "body"]) string(binding[key], `rest.additionalBindings[${i}].${key}`);
    });
  }
  methodList(object(root.grpc, "grpc", ["methods"])?.methods, "grpc.methods");
  if (root.controls !== undefined) {
    if (!Array.isArray(root.controls)) throw new Error(`${where("controls")} must be a list`);
    root.controls.forEach((c: unknown, i: number) => {
      const control = object(c, `controls[${i}]`, ["method", "command", "nameField"])!;
      if (typeof control.method !== "string" || !/^[\w.]+\.\w+$/.test(control.method)) {
        throw new Error(`${where(`controls[${i}].method`)} must be an RPC's full name, package.Service.Method`);
      }
      if (typeof control.command !== "string" || control.command === "") throw new Error(`${where(`controls[${i}].command`)} is required`);
      string(control.nameField, `controls[${i}].nameField`);
    });
  }
  const listing = object(root.listing, "listing", ["defaultPageSize", "maxPageSize", "filterRequired", "filterDialect"]);
  positive(listing?.defaultPageSize, "listing.defaultPageSize");
  positive(listing?.maxPageSize, "listing.maxPageSize");
  if (listing?.filterRequired !== undefined && typeof listing.filterRequired !== "boolean") {
    throw new Error(`${where("listing.filterRequired")} must be true or false`);
  }
  // Which names exist is known only once the server's filterDialects are (profileOptions checks it).
  if (listing?.filterDialect !== undefined && (typeof listing.filterDialect !== "string" || listing.filterDialect === "")) {
    throw new Error(`${where("listing.filterDialect")} must be a dialect's name, such as "aip-160"`);
  }
  string(root.errorDomain, "errorDomain");
  const permissions = object(root.permissions, "permissions", ["prefix", "methods"]);
  if (permissions?.prefix !== undefined && (typeof permissions.prefix !== "string" || !/^[a-z][a-zA-Z0-9]*$/.test(permissions.prefix))) {
    throw new Error(`${where("permissions.prefix")} must be a service's short name, such as "cloudtranslate"`);
  }
  const methods = object(permissions?.methods, "permissions.methods", Object.keys(permissions?.methods ?? {}));
  for (const [method, permission] of Object.entries(methods ?? {})) {
    if (typeof permission !== "string" || !/^[a-z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*){2,}$/.test(permission)) {
      throw new Error(`${where(`permissions.methods.${method}`)} must be a permission, service.resource.verb`);
    }
  }
}
