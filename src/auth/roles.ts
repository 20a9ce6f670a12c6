/**
 * The predefined roles, from least to most: each grants what the ones before it grant, and more.
 * viewer reads (get, list, wait); operator also steers running work (cancel, pause, resume…); editor also
 * starts and deletes operations; admin holds every permission the server checks.
 */
export const ROLE_LEVELS = ["viewer", "operator", "editor", "admin"] as const;
export type RoleLevel = (typeof ROLE_LEVELS)[number];

export const PREDEFINED_ROLE_PREFIX = "roles/longrun.";

/** Every permission the server checks, each with the least predefined role that grants it. */
export type PermissionCatalogue = ReadonlyMap<string, RoleLevel>;

/** `roles/longrun.viewer` … `roles/longrun.admin`, each with its permissions among those the server checks. */
export function predefinedRoles(catalogue: PermissionCatalogue): Map<string, ReadonlySet<string>> {
  const roles = new Map<string, ReadonlySet<string>>();
  for (const [rank, level] of ROLE_LEVELS.entries()) {
    const granted = new Set<string>();
    for (const [permission, least] of catalogue) if (ROLE_LEVELS.indexOf(least) <= rank) granted.add(permission);
    roles.set(PREDEFINED_ROLE_PREFIX + level, granted);
  }
  return roles;
}
