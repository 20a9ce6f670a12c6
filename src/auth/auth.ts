import { ApiKeys } from "./api-keys.js";
import { Authenticator } from "./authenticator.js";
import { JwtVerifier } from "./jwt.js";
import type { LoadedAuth } from "./load.js";
import { filePolicy, type Authorize } from "./policy.js";
import type { PermissionCatalogue } from "./roles.js";

/** What the server's guard needs, built from the auth file. */
export interface Auth {
  authenticator: Authenticator;
  authorize: Authorize;
  /** The OAuth scopes that let a bearer token call `method` (any one of them); empty: no scope is needed. */
  scopesOf(method: string): readonly string[];
}

/**
 * The auth file made into the guard's parts. `catalogue` is every permission the server checks (a custom
 * role granting any other is a mistake, refused here); `authorize`, when given, replaces the file's roles
 * and bindings with the application's own IAM.
 */
export function buildAuth(loaded: LoadedAuth, catalogue: PermissionCatalogue, authorize?: Authorize): Auth {
  const { config } = loaded;
  const roles = config.roles ?? {};
  for (const [role, permissions] of Object.entries(roles)) {
    const unknown = permissions.filter((p) => !catalogue.has(p));
    if (unknown.length > 0) {
      throw new Error(`auth: role ${role} grants ${unknown.join(", ")}, which this server does not check (it checks: ${[...catalogue.keys()].sort().join(", ")})`);
    }
  }
  const jwt =
    config.jwt && loaded.jwks
      ? new JwtVerifier({
          jwks: loaded.jwks,
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
          principalClaim: config.jwt.principalClaim,
          principalPrefix: config.jwt.principalPrefix,
          clockToleranceSeconds: config.jwt.clockToleranceSeconds,
        })
      : undefined;
  const apiKeys = config.apiKeys && config.apiKeys.length > 0 ? new ApiKeys(config.apiKeys) : undefined;
  const defaultScopes = config.jwt?.scopes ?? [];
  const methodScopes = config.jwt?.methodScopes ?? {};
  return {
    authenticator: new Authenticator({ apiKeys, jwt }),
    authorize: authorize ?? filePolicy(catalogue, roles, config.bindings ?? []),
    scopesOf: (method) => methodScopes[method] ?? defaultScopes,
  };
}
