import type { Message } from "@bufbuild/protobuf";
import type { Auth } from "../auth/auth.js";
import type { PermissionCatalogue, RoleLevel } from "../auth/roles.js";
import type { Principal } from "../auth/principal.js";
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
 *
 * An endpoint whose resource may belong to another one gets a second check, only after a denial on its own:
 * an operation named without a parent, on the resource it was started on (`access.owner`); a list of a
 * flat collection, on the resource it is about (`access.scope`), restricted to it (`ctx.scope`). A call
 * denied both times gets the first denial, naming the request's own resource, never the other one.
 */
export function guardEndpoints(endpoints: readonly Endpoint[], options: GuardOptions): Endpoint[] {
  return endpoints.map((endpoint) => {
    const access = endpoint.access;
    if (!access) throw new Error(`${fullName(endpoint)}: it declares no permission`);
    const invoke = guarded(endpoint, access, options);
    const { watch } = endpoint;
    if (watch === undefined) return { ...endpoint, invoke };
    // A stream is opened only once the same check as its invoke let the call through.
    return { ...endpoint, invoke, watch: async (request, ctx, listener) => (await invoke(request, ctx), watch.call(endpoint, request, ctx, listener)) };
  });
}

function guarded(endpoint: Endpoint, access: EndpointAccess, options: GuardOptions): Endpoint["invoke"] {
  const { auth, audit, log } = options;
  const now = options.now ?? Date.now;
  const method = fullName(endpoint);
  const scopes = auth.scopesOf(method);
  const { permission, owner, scope } = access;
  const record = (ctx: CallContext, principal: string, resource: string, outcome: string, operation?: string, grantedOn?: string, checked = permission): void => {
    try {
      audit({
        time: new Date(now()).toISOString(),
        principal,
        method,
        permission: checked,
        resource,
        outcome,
        ...(operation ? { operation } : {}),
        ...(grantedOn !== undefined ? { grantedOn } : {}),
        ...(ctx.requestId !== undefined ? { requestId: ctx.requestId } : {}),
      });
    } catch (err) {
      log("the audit sink threw", err, { requestId: ctx.requestId, method });
    }
  };
  /** Whether `principal` holds the permission on `resource` (what the policy throws goes to the caller's catch). */
  const authorized = async (principal: string, resource: string): Promise<boolean> => (await auth.authorize(principal, permission, resource)) === true;
  /**
   * After a denial on the request's own resource: the resource the operation it names belongs to, or
   * the narrower one the call can be restricted to (then set as `ctx.scope`), if the principal holds
   * the permission there; else undefined.
   */
  const secondChance = async (request: Message, ctx: CallContext, principal: string): Promise<string | undefined> => {
    if (owner) {
      const resource = await safely(`${method}: reading the operation's owner`, () => owner(request), log, ctx);
      if (resource !== undefined && (await authorized(principal, resource))) return resource;
    }
    if (scope) {
      const resource = await safely(`${method}: the list's scope`, () => scope(request), log, ctx);
      if (resource !== undefined && (await authorized(principal, resource))) {
        ctx.scope = resource;
        return resource;
      }
    }
    return undefined;
  };
  const again = owner !== undefined || scope !== undefined;
  const scopesAllow = (principal: Principal): boolean =>
    principal.scopes === undefined || scopes.length === 0 || scopes.some((s) => principal.scopes!.has(s));
  /**
   * The whole decision, for a principal still being verified or a policy answering asynchronously; `first`
   * is the policy's answer on the request's resource if it was asked already (it is asked once per call).
   */
  const decide = async (request: Message, ctx: CallContext, pending: Principal | Promise<Principal>, first?: Verdict): Promise<Message> => {
    const principal = await pending;
    ctx.principal = principal.id;
    const resource = access.resource(request);
    const granted = scopesAllow(principal);
    let allowed = false;
    let grantedOn: string | undefined;
    if (granted) {
      try {
        allowed = (await (first ?? auth.authorize(principal.id, permission, resource))) === true;
        if (!allowed && again) {
          grantedOn = await secondChance(request, ctx, principal.id);
          allowed = grantedOn !== undefined;
        }
      } catch (err) {
        const answered = err instanceof RpcError ? err : internalError();
        if (answered !== err) log(`authorize(${principal.id}, ${permission}) threw`, err, { requestId: ctx.requestId, method });
        if (access.mutation) record(ctx, principal.id, resource, codeName(answered.code));
        throw answered;
      }
    }
    if (!allowed) {
      if (access.mutation) record(ctx, principal.id, resource, "PERMISSION_DENIED");
      throw granted ? permissionDenied(permission, resource) : scopeInsufficient(method);
    }
    if (access.further) await checkFurther(access.further, request, ctx, principal.id);
    if (!access.mutation) return endpoint.invoke(request, ctx);
    try {
      const response = await endpoint.invoke(request, ctx);
      record(ctx, principal.id, resource, "OK", operationName(response), grantedOn);
      return response;
    } catch (err) {
      record(ctx, principal.id, resource, outcomeOf(err), undefined, grantedOn);
      throw err;
    }
  };
  /** The further permission the call needs (EndpointAccess.further), once its own was granted. */
  const checkFurther = async (further: NonNullable<EndpointAccess["further"]>, request: Message, ctx: CallContext, principal: string): Promise<void> => {
    let needed: { permission: string; resource: string } | undefined;
    let allowed: boolean;
    try {
      needed = await safely(`${method}: the further permission`, () => further(request), log, ctx);
      allowed = needed === undefined || (await auth.authorize(principal, needed.permission, needed.resource)) === true;
    } catch (err) {
      const answered = err instanceof RpcError ? err : internalError();
      if (answered !== err) log(`authorize(${principal}, ${needed?.permission}) threw`, err, { requestId: ctx.requestId, method });
      if (access.mutation) record(ctx, principal, needed?.resource ?? access.resource(request), codeName(answered.code), undefined, undefined, needed?.permission);
      throw answered;
    }
    if (!allowed && needed !== undefined) {
      if (access.mutation) record(ctx, principal, needed.resource, "PERMISSION_DENIED", undefined, undefined, needed.permission);
      throw permissionDenied(needed.permission, needed.resource);
    }
  };
  // Most calls are reads by a caller already known, allowed at once: answered without a promise of the guard's own.
  return (request: Message, ctx: CallContext): Promise<Message> => {
    let principal: Principal | Promise<Principal>;
    try {
      principal = auth.authenticator.authenticate(ctx.credentials);
    } catch (err) {
      return Promise.reject(err);
    }
    if (access.mutation || access.further || principal instanceof Promise || !scopesAllow(principal)) return decide(request, ctx, principal);
    ctx.principal = principal.id;
    let verdict: Verdict;
    try {
      verdict = auth.authorize(principal.id, permission, access.resource(request));
    } catch (err) {
      verdict = Promise.reject(err);
    }
    return verdict === true ? endpoint.invoke(request, ctx) : decide(request, ctx, principal, verdict);
  };
}

type Verdict = boolean | Promise<boolean>;

/** What `run` returns; an RpcError it throws is answered as it is, anything else is logged and answered INTERNAL. */
async function safely<T>(what: string, run: () => T | Promise<T>, log: Logger, ctx: CallContext): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RpcError) throw err;
    log(`${what} threw`, err, { requestId: ctx.requestId });
    throw internalError();
  }
}

function outcomeOf(err: unknown): string {
  return err instanceof RpcError ? codeName(err.code) : "INTERNAL";
}

function operationName(response: Message): string | undefined {
  if (response.$typeName !== "google.longrunning.Operation") return undefined;
  const name = (response as Message & { name?: unknown }).name;
  return typeof name === "string" ? name : undefined;
}

function fullName(endpoint: Endpoint): string {
  return `${endpoint.method.parent.typeName}.${endpoint.method.name}`;
}
