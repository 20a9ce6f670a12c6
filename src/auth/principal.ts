/** Who a call is made as, once its credentials are verified. */
export interface Principal {
  /** `kind:value`, as bindings name members: `user:alice`, `serviceAccount:ci@example`, `certificate:worker-1`. */
  readonly id: string;
  /** How the caller proved it. */
  readonly via: "api-key" | "jwt" | "certificate";
  /** The OAuth scopes of a bearer token; undefined for API keys and certificates, which carry none. */
  readonly scopes: ReadonlySet<string> | undefined;
}

/** A member that matches every authenticated principal (Google's name). */
export const ALL_AUTHENTICATED_USERS = "allAuthenticatedUsers";
