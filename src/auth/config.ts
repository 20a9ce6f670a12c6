/**
 * The auth file (`--auth FILE`, YAML or JSON), as documented in docs/security.md. The key names are fixed:
 * other tools write these files.
 */
export interface AuthConfig {
  /** API keys, stored as SHA-256 hex of the key (`longrun auth hash-key`), each naming a principal. */
  apiKeys?: ApiKeyEntry[];
  /** Bearer JWTs: where their keys are, and what they must say. */
  jwt?: JwtConfig;
  /** Custom roles: name → permissions. Predefined: roles/longrun.viewer|operator|editor|admin. */
  roles?: Record<string, string[]>;
  /** Who holds which role on which resources. */
  bindings?: Binding[];
}

export interface ApiKeyEntry {
  /** SHA-256 of the key, 64 lowercase hex digits. */
  sha256: string;
  /** The principal calls with this key are made as, e.g. `serviceAccount:ci@example`. */
  principal: string;
}

export interface JwtConfig {
  /** A JWKS: a file path (relative to the auth file), or an https URL fetched, cached and refreshed. */
  jwks: string;
  /** The `iss` every token must carry. */
  issuer: string;
  /** The `aud` every token must include (any one of several). */
  audience: string | string[];
  /** The claim naming the caller. @default "sub" */
  principalClaim?: string;
  /** Put before the claim's value to make the principal. @default "user:" */
  principalPrefix?: string;
  /** OAuth scopes, any one of which a token must carry (`scope` or `scp`); none: no scope check. @default [] */
  scopes?: string[];
  /** Per RPC (`package.Service.Method`), the scopes accepted instead of `scopes`. */
  methodScopes?: Record<string, string[]>;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. @default 30 */
  clockToleranceSeconds?: number;
}

export interface Binding {
  /** A predefined or custom role. */
  role: string;
  /** Principals (`user:alice`, `serviceAccount:ci@example`, `certificate:worker-1`) or `allAuthenticatedUsers`. */
  members: string[];
  /** A resource name prefix, whole segments (`projects/a` covers `projects/a/locations/x/operations/1`), or `*`. */
  resource: string;
}
