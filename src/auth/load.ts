import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { JSONWebKeySet } from "jose";
import { parse as parseYaml } from "yaml";
import type { ApiKeyEntry, AuthConfig, Binding, JwtConfig } from "./config.js";
import { ALL_AUTHENTICATED_USERS } from "./principal.js";
import { PREDEFINED_ROLE_PREFIX, ROLE_LEVELS } from "./roles.js";

/** An auth file checked key by key, its JWKS located: a file's keys read, a URL parsed. */
export interface LoadedAuth {
  config: AuthConfig;
  /** Where `jwt.jwks` points: the key set read from its file, or its https URL. */
  jwks: JSONWebKeySet | URL | undefined;
}

/** Reads the auth file (YAML, or JSON — YAML reads both), checks it, reads its JWKS file. Throws naming the key at fault. */
export function loadAuthFile(path: string): LoadedAuth {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read the auth file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new Error(`the auth file ${path} is neither YAML nor JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  return checkAuth(value, { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Checks an auth configuration given in code or read from a file; a relative JWKS path is taken from
 * `baseDir` (the auth file's folder; the working directory for one given in code).
 */
export function checkAuth(value: unknown, options: { source?: string; baseDir?: string } = {}): LoadedAuth {
  const source = options.source ?? "auth";
  const at = (path: string): string => `${source}: ${path}`;
  const root = object(value, at("the top level"), ["apiKeys", "jwt", "roles", "bindings"]);
  const config: AuthConfig = {};
  if (root["apiKeys"] !== undefined) config.apiKeys = list(root["apiKeys"], at("apiKeys")).map((v, i) => apiKey(v, at(`apiKeys[${i}]`)));
  const hashes = new Set<string>();
  for (const [i, entry] of (config.apiKeys ?? []).entries()) {
    if (hashes.has(entry.sha256)) throw new Error(`${at(`apiKeys[${i}].sha256`)}: the same key is listed twice`);
    hashes.add(entry.sha256);
  }
  let jwks: JSONWebKeySet | URL | undefined;
  if (root["jwt"] !== undefined) {
    config.jwt = jwt(root["jwt"], at("jwt"));
    jwks = locateJwks(config.jwt.jwks, options.baseDir ?? process.cwd(), at("jwt.jwks"));
  }
  if (root["roles"] !== undefined) {
    const roles = object(root["roles"], at("roles"));
    config.roles = {};
    for (const [name, permissions] of Object.entries(roles)) {
      if (!/^roles\/[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`${at(`roles.${name}`)}: a role's name is roles/<name> (letters, digits, _ . -)`);
      if (name.startsWith(PREDEFINED_ROLE_PREFIX)) throw new Error(`${at(`roles.${name}`)}: roles/longrun.* are predefined and cannot be redefined`);
      config.roles[name] = list(permissions, at(`roles.${name}`)).map((p, i) => permission(p, at(`roles.${name}[${i}]`)));
    }
  }
  if (root["bindings"] !== undefined) {
    config.bindings = list(root["bindings"], at("bindings")).map((v, i) => binding(v, at(`bindings[${i}]`), config.roles ?? {}));
  }
  return { config, jwks };
}

function apiKey(value: unknown, at: string): ApiKeyEntry {
  const entry = object(value, at, ["sha256", "principal"]);
  const sha256 = string(entry["sha256"], `${at}.sha256`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new Error(`${at}.sha256: must be the SHA-256 of the key, 64 lowercase hex digits (\`longrun auth hash-key\` prints it; the key itself never goes in the file)`);
  }
  return { sha256, principal: principal(entry["principal"], `${at}.principal`) };
}

function jwt(value: unknown, at: string): JwtConfig {
  const entry = object(value, at, ["jwks", "issuer", "audience", "principalClaim", "principalPrefix", "scopes", "methodScopes", "clockToleranceSeconds"]);
  const config: JwtConfig = {
    jwks: string(entry["jwks"], `${at}.jwks`),
    issuer: string(entry["issuer"], `${at}.issuer`),
    audience: Array.isArray(entry["audience"])
      ? entry["audience"].map((a, i) => string(a, `${at}.audience[${i}]`))
      : string(entry["audience"], `${at}.audience`),
  };
  if (entry["principalClaim"] !== undefined) config.principalClaim = string(entry["principalClaim"], `${at}.principalClaim`);
  if (entry["principalPrefix"] !== undefined) config.principalPrefix = stringOrEmpty(entry["principalPrefix"], `${at}.principalPrefix`);
  if (entry["scopes"] !== undefined) config.scopes = list(entry["scopes"], `${at}.scopes`).map((s, i) => string(s, `${at}.scopes[${i}]`));
  if (entry["methodScopes"] !== undefined) {
    config.methodScopes = {};
    for (const [method, scopes] of Object.entries(object(entry["methodScopes"], `${at}.methodScopes`))) {
      if (!/^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$/.test(method)) throw new Error(`${at}.methodScopes: ${JSON.stringify(method)} is not an RPC's full name, package.Service.Method`);
      config.methodScopes[method] = list(scopes, `${at}.methodScopes.${method}`).map((s, i) => string(s, `${at}.methodScopes.${method}[${i}]`));
    }
  }
  const tolerance = entry["clockToleranceSeconds"];
  if (tolerance !== undefined) {
    if (typeof tolerance !== "number" || !Number.isInteger(tolerance) || tolerance < 0 || tolerance > 300) {
      throw new Error(`${at}.clockToleranceSeconds: must be a whole number of seconds from 0 to 300`);
    }
    config.clockToleranceSeconds = tolerance;
  }
  return config;
}

function binding(value: unknown, at: string, roles: Record<string, string[]>): Binding {
  const entry = object(value, at, ["role", "members", "resource"]);
  const role = string(entry["role"], `${at}.role`);
  const predefined = ROLE_LEVELS.map((level) => PREDEFINED_ROLE_PREFIX + level);
  if (!predefined.includes(role) && !Object.hasOwn(roles, role)) {
    throw new Error(`${at}.role: unknown role ${JSON.stringify(role)} (predefined: ${predefined.join(", ")}; custom ones go under roles:)`);
  }
  const members = list(entry["members"], `${at}.members`).map((m, i) =>
    m === ALL_AUTHENTICATED_USERS ? m : principal(m, `${at}.members[${i}]`),
  );
  const resource = string(entry["resource"], `${at}.resource`);
  if (resource !== "*" && (resource.startsWith("/") || resource.endsWith("/") || resource.includes("*") || resource.split("/").includes(""))) {
    throw new Error(`${at}.resource: must be "*" or a resource name or prefix of one, whole segments (projects/a), no wildcards`);
  }
  return { role, members, resource };
}

function locateJwks(where: string, baseDir: string, at: string): JSONWebKeySet | URL {
  if (/^https?:\/\//i.test(where)) {
    const url = new URL(where);
    // Keys fetched in clear could be swapped on the way: only loopback may be plain http (a local issuer, tests).
    if (url.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
      throw new Error(`${at}: a JWKS URL must be https (http only for localhost)`);
    }
    return url;
  }
  const path = resolve(baseDir, where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${at}: cannot read the JWKS file ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${at}: ${where} is not a JWKS (an object with a non-empty "keys" list)`);
  return parsed as JSONWebKeySet;
}

function principal(value: unknown, at: string): string {
  const s = string(value, at);
  if (!/^[a-zA-Z]+:[^\p{C}\s]{1,512}$/u.test(s)) throw new Error(`${at}: a principal is kind:name, such as user:alice or serviceAccount:ci@example`);
  return s;
}

function permission(value: unknown, at: string): string {
  const s = string(value, at);
  if (!/^[a-z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*){2,}$/.test(s)) throw new Error(`${at}: a permission is service.resource.verb, such as longrun.operations.get`);
  return s;
}

function object(value: unknown, at: string, keys?: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${at}: must be an object`);
  if (keys) {
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) throw new Error(`${at}: unknown key ${JSON.stringify(key)} (known: ${keys.join(", ")})`);
    }
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${at}: must be a list`);
  return value;
}

function string(value: unknown, at: string): string {
  if (typeof value !== "string" || value === "") throw new Error(`${at}: must be a non-empty string`);
  return value;
}

function stringOrEmpty(value: unknown, at: string): string {
  if (typeof value !== "string") throw new Error(`${at}: must be a string`);
  return value;
}
