import type { Binding } from "./config.js";
import { ALL_AUTHENTICATED_USERS } from "./principal.js";
import { predefinedRoles, type PermissionCatalogue } from "./roles.js";

/**
 * Whether `principal` holds `permission` on `resource`: the one question the server asks before every
 * call. The file policy answers it from roles and bindings; an application with its own IAM passes its own
 * function (it may be async; it is asked once per call).
 */
export type Authorize = (principal: string, permission: string, resource: string) => boolean | Promise<boolean>;

/** Whether a binding on `bound` reaches `resource`: `*`, the resource itself, or a parent of it (whole segments). */
export function resourceCovers(bound: string, resource: string): boolean {
  if (bound === "*" || resource === bound) return true;
  return resource.length > bound.length && resource.startsWith(bound) && resource.charCodeAt(bound.length) === 47; /* / */
}

interface Grant {
  permissions: ReadonlySet<string>;
  resource: string;
}

/**
 * The auth file's roles and bindings as an `Authorize`. `roles` are the custom roles (checked by
 * loadAuthFile); the predefined ones come from the catalogue of what the server checks.
 */
export function filePolicy(catalogue: PermissionCatalogue, roles: Readonly<Record<string, readonly string[]>>, bindings: readonly Binding[]): Authorize {
  const roleTable = predefinedRoles(catalogue);
  for (const [name, permissions] of Object.entries(roles)) roleTable.set(name, new Set(permissions));
  const byMember = new Map<string, Grant[]>();
  for (const binding of bindings) {
    const permissions = roleTable.get(binding.role);
    if (!permissions) throw new Error(`binding of unknown role ${JSON.stringify(binding.role)}`);
    for (const member of binding.members) {
      const grants = byMember.get(member) ?? [];
      grants.push({ permissions, resource: binding.resource });
      byMember.set(member, grants);
    }
  }
  const everyone = byMember.get(ALL_AUTHENTICATED_USERS) ?? [];
  const grants = (grantsOf: readonly Grant[] | undefined, permission: string, resource: string): boolean =>
    grantsOf !== undefined && grantsOf.some((g) => g.permissions.has(permission) && resourceCovers(g.resource, resource));
  return (principal, permission, resource) =>
    grants(byMember.get(principal), permission, resource) || grants(everyone, permission, resource);
}
