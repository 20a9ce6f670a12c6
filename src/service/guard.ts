import type { Message } from "@bufbuild/protobuf";
import type { Auth } from "../auth/auth.js";
import type { PermissionCatalogue, RoleLevel } from "../auth/roles.js";
import { codeName } from "../core/code.js";
import { internalError, permissionDenied, RpcError, scopeInsufficient } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { AuditSink } from "./audit.js";
import type { CallContext, Endpoint, EndpointAccess } from "./endpoint.js";

export interface GuardOptions {
  auth: Auth;
  audit: AuditSink;
  log: Logger;
  now?: () => number;
}

/** Every permission the endpoints check, each with the least predefined role that grants it. */
export function permissionCatalogue(endpoints: readonly Endpoint[]): PermissionCatalogue {
  const catalogue = new Map<string, RoleLevel>();
  for (const endpoint of endpoints) {
    const { access } = endpoint;
    if (!access) throw new Error(`${fullName(endpoint)}: it declares no permission, so it cannot be served with auth on (give the endpoint an \`access\`)`);
    catalogue.set(access.permission, catalogue.get(access.permission) ?? access.role);
  }
  return catalogue;
}

/**
 * The endpoints, each behind the guard: authenticate the call (→ `ctx.principal`), check the token's
 * scopes, then the permission on the resource — before the endpoint reads anything, so a denial is the
 * same whether or not the resource exists (AIP-211). Mutations are written to the audit log, allowed or not.
 */
export function guardEndpoints(endpoints: readonly Endpoint[], options: GuardOptions): Endpoint[] {
  return endpoints.map((endpoint) => {
    const access = endpoint.access;
    if (!access) throw new Error(`${fullName(endpoint)}: it declares no permission`);
    return { ...endpoint, invoke: guarded(endpoint, access, options) };
  });
}

function guarded(endpoint: Endpoint, access: EndpointAccess, options: GuardOptions): Endpoint["invoke"] {
  const { auth, audit, log } = options;
  const now = options.now ?? Date.now;
  const method = fullName(endpoint);
  const scopes = auth.scopesOf(method);
  const record = (principal: string, resource: string, outcome: string, operation?: string): void => {
    try {
      audit({ time: new Date(now()).toISOString(), principal, method, permission: access.permission, resource, outcome, ...(operation ? { operation } : {}) });
    } catch (err) {
      log("the audit sink threw", err);
    }
  };
  return async (request: Message, ctx: CallContext): Promise<Message> => {
    const principal = await auth.authenticator.authenticate(ctx.credentials);
    ctx.principal = principal.id;
    const resource = access.resource(request);
    const granted = principal.scopes === undefined || scopes.length === 0 || scopes.some((s) => principal.scopes!.has(s));
    let allowed = false;
    if (granted) {
      try {
        allowed = await auth.authorize(principal.id, access.permission, resource);
      } catch (err) {
        if (err instanceof RpcError) throw err;
        log(`authorize(${principal.id}, ${access.permission}) threw`, err);
        throw internalError();
      }
    }
    if (allowed !== true) {
      if (access.mutation) record(principal.id, resource, "PERMISSION_DENIED");
      throw granted ? permissionDenied(access.permission, resource) : scopeInsufficient(method);
    }
    if (!access.mutation) return endpoint.invoke(request, ctx);
    try {
      const response = await endpoint.invoke(request, ctx);
      record(principal.id, resource, "OK", operationName(response));
      return response;
    } catch (err) {
      record(principal.id, resource, err instanceof RpcError ? codeName(err.code) : "INTERNAL");
      throw err;
    }
  };
}

function operationName(response: Message): string | undefined {
  if (response.$typeName !== "google.longrunning.Operation") return undefined;
  const name = (response as Message & { name?: unknown }).name;
  return typeof name === "string" ? name : undefined;
}

function fullName(endpoint: Endpoint): string {
  return `${endpoint.method.parent.typeName}.${endpoint.method.name}`;
}
