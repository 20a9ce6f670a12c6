import { create, getOption, hasOption, ScalarType, type DescMethod, type Message } from "@bufbuild/protobuf";
import type { HttpRule } from "../gen/google/api/http_pb.js";
import { http } from "../gen/google/api/annotations_pb.js";
import {
  ListOperationsResponseSchema,
  Operations,
  type CancelOperationRequest,
  type DeleteOperationRequest,
  type GetOperationRequest,
  type ListOperationsRequest,
  type WaitOperationRequest,
} from "../gen/google/longrunning/operations_pb.js";
import type { MethodDefinition } from "../runtime/methods.js";
import type { CallContext, Endpoint, EndpointAccess } from "./endpoint.js";
import type { RoleLevel } from "../auth/roles.js";
import type { OperationsService, OptionalMethod } from "./operations-service.js";
import { DEFAULTS } from "../core/defaults.js";
import { OperationActivity, type GetOperationActivityRequest, type RetryOperationRequest } from "../gen/longrun/admin/v1/activity_pb.js";
import type { GetOperationDetailsRequest } from "../gen/longrun/admin/v1/details_pb.js";
import type { GetOperationCountsRequest } from "../gen/longrun/admin/v1/counts_pb.js";
import { unimplemented } from "../core/errors.js";
import { operationsRestBindings, retryOperationRestBinding, ruleOfBinding } from "../http/rule.js";

/** Methods a deployment switches off, per transport: they answer UNIMPLEMENTED there. */
export interface DisabledMethods {
  grpc?: readonly OptionalMethod[];
  rest?: readonly OptionalMethod[];
}

export interface OperationsEndpointOptions {
  /** The version prefix of the Operations bindings. @default DEFAULTS.restPrefix ("/v1") */
  prefix?: string;
  disabled?: DisabledMethods;
  /**
   * Also serve GetOperation at `GET {prefix}/{collection}/{name}`, the binding google-gax's REST fallback
   * uses when a client gives it no rules of its own (it sends `operations/abc` as `operations%2Fabc`).
   * @default true
   */
  gaxFallbackBinding?: boolean;
  /**
   * More REST bindings of Operations methods, each served (REST only) whatever `disabled` says: a real
   * service's own routes, such as Cloud Search's `GET /v1/{name=operations/**}/lro` for ListOperations.
   */
  additionalBindings?: readonly AdditionalBinding[];
  /**
   * The service part of the permissions the endpoints need (`<prefix>.operations.get` …), as the served
   * service names its IAM permissions: `cloudtranslate` for Cloud Translation. @default "longrun"
   */
  permissionPrefix?: string;
  /**
   * With auth on, the resource a ListOperations request is about, when the caller may not list the whole
   * collection (`name`): a caller denied `list` there but holding it on this resource lists only the
   * operations recorded with it (those whose start was authorized on it). For names without a parent,
   * where the collection is every tenant's: the Storage Transfer example reads `projectId` from its
   * JSON filter → `projects/{projectId}`. Undefined: no such list (the caller is denied).
   */
  listScope?: ListScope;
  /**
   * Also serve the web dashboard's reads: the watch of ListOperations' collection (`GET {list binding}:watch`,
   * server-sent events; REST only, read-only, guarded as ListOperations), and OperationActivity's
   * GetOperationActivity and GetOperationCounts (`{list binding}:activity`, `:counts`; guarded as
   * ListOperations) and GetOperationDetails (`{GetOperation binding}:details`; guarded as GetOperation),
   * over both transports. @default false
   */
  watch?: boolean;
  /**
   * The options of each served method's start endpoint (methodEndpoint), as the server gives them: a
   * RetryOperation call needs the start permission of the retried operation's method.
   * @default `{ permissionPrefix }`
   */
  methodOptions?: (definition: MethodDefinition) => MethodEndpointOptions;
}

/** The resource a ListOperations request is about, or undefined (see OperationsEndpointOptions.listScope). */
export type ListScope = (request: ListOperationsRequest) => string | undefined;

/** The service part of permission names unless a deployment sets its own. */
export const DEFAULT_PERMISSION_PREFIX = "longrun";

/** The Operations methods by name. */
export type OperationsMethodName = "GetOperation" | OptionalMethod;

/** One more REST route of an Operations method; the path is an http.proto template. */
export interface AdditionalBinding {
  method: OperationsMethodName;
  get?: string;
  post?: string;
  delete?: string;
  /** The body field for POST (`*` for the whole request). @default "*" for post, "" otherwise */
  body?: string;
}

/**
 * The endpoints of google.longrunning.Operations over the deployment's names. With `operations/{id}`: the
 * upstream bindings (`GET /v1/{name=operations/**}`, `GET /v1/{name=operations}`, `DELETE …`,
 * `POST …:cancel`). With parent-scoped names, Cloud's: `GET /v1/{name=projects/*\/locations/*\/operations/*}`,
 * List at `GET /v1/{name=projects/*\/locations/*}/operations`. Both with `POST …:wait`, which the upstream
 * proto leaves out but Cloud services add.
 */
export function operationsEndpoints(service: OperationsService, options: OperationsEndpointOptions = {}): Endpoint[] {
  const prefix = options.prefix ?? DEFAULTS.restPrefix.value;
  const { collection, parentPattern } = service.names;
  const rest = operationsRestBindings(service.names.restTemplates(prefix));
  const off = { grpc: new Set(options.disabled?.grpc ?? []), rest: new Set(options.disabled?.rest ?? []) };
  /** The method, answering UNIMPLEMENTED on the transports the deployment switched it off for. */
  const unless = (name: OptionalMethod, invoke: Invoke): Invoke => (request, ctx) => {
    if (off[ctx.transport].has(name)) return Promise.reject(unimplemented(`google.longrunning.Operations.${name}`));
    return invoke(request, ctx);
  };
  const m = Operations.method;
  const permission = `${options.permissionPrefix ?? DEFAULT_PERMISSION_PREFIX}.operations`;
  const nameOf = (r: Message) => (r as unknown as { name: string }).name;
  /**
   * Every Operations request names its resource in `name`: the operation, or the list's parent
   * (collection). An operation named without a parent is also checked, after a denial, on the resource it
   * belongs to (ownerCheck); a list of such names on the resource `listScope` says it is about.
   */
  const owned = ownerCheck(service, nameOf);
  const on = (verb: string, role: RoleLevel, mutation: boolean, second: Pick<EndpointAccess, "owner" | "scope"> = owned): EndpointAccess => ({
    permission: `${permission}.${verb}`,
    resource: nameOf,
    mutation,
    role,
    ...second,
  });
  /** Each method with its standard binding; additional bindings reuse the method and its invoke. */
  const methods: Record<OperationsMethodName, { method: DescMethod; binding: HttpRule; invoke: Invoke; access: EndpointAccess }> = {
    ListOperations: {
      method: m.listOperations,
      binding: ruleOfBinding(rest.ListOperations),
      // ctx.scope: the guard let the list through only on that resource, so it lists only that resource's.
      invoke: (r, ctx) => service.listOperations(r as ListOperationsRequest, ctx.scope),
      access: on("list", "viewer", false, listScopeCheck(options.listScope)),
    },
    GetOperation: { method: m.getOperation, binding: ruleOfBinding(rest.GetOperation), invoke: (r) => service.getOperation(r as GetOperationRequest), access: on("get", "viewer", false) },
    DeleteOperation: { method: m.deleteOperation, binding: ruleOfBinding(rest.DeleteOperation), invoke: (r) => service.deleteOperation(r as DeleteOperationRequest), access: on("delete", "editor", true) },
    CancelOperation: { method: m.cancelOperation, binding: ruleOfBinding(rest.CancelOperation), invoke: (r) => service.cancelOperation(r as CancelOperationRequest), access: on("cancel", "operator", true) },
    WaitOperation: { method: m.waitOperation, binding: ruleOfBinding(rest.WaitOperation), invoke: (r, ctx) => service.waitOperation(r as WaitOperationRequest, ctx), access: on("wait", "viewer", false) },
  };
  const endpoints: Endpoint[] = (Object.keys(methods) as OperationsMethodName[]).map((name) => {
    const { method, binding, invoke, access } = methods[name];
    return { method, httpRules: [binding], grpc: true, invoke: name === "GetOperation" ? invoke : unless(name, invoke), access };
  });
  for (const binding of options.additionalBindings ?? []) {
    const target = methods[binding.method];
    if (!target) throw new Error(`additional binding for an unknown Operations method ${JSON.stringify(binding.method)}`);
    endpoints.push({ method: target.method, httpRules: [additionalRule(binding)], grpc: false, invoke: target.invoke, access: target.access });
  }
  if (options.watch === true && !off.rest.has("ListOperations")) {
    const list = methods.ListOperations;
    endpoints.push({
      method: list.method,
      httpRules: [ruleOfBinding({ method: "GET", path: `${service.names.restTemplates(prefix).list}:watch` })],
      grpc: false,
      // Behind the guard, the check the stream passes first; it reads nothing.
      invoke: async () => create(ListOperationsResponseSchema),
      watch: async (r, ctx, listener) => service.watchOperations(r as ListOperationsRequest, listener, ctx.scope),
      access: list.access,
    });
  }
  if (options.watch === true && !off.rest.has("ListOperations")) {
    // The dashboard's throughput chart: who may list the collection may see how busy it is.
    const list = methods.ListOperations;
    endpoints.push({
      method: OperationActivity.method.getOperationActivity,
      httpRules: [ruleOfBinding({ method: "GET", path: `${service.names.restTemplates(prefix).list}:activity` })],
      grpc: true,
      invoke: (r, ctx) => service.activity(r as GetOperationActivityRequest, ctx.scope),
      access: list.access,
    });
    // The dashboard's counters: as the chart, who may list the collection may see how many are where.
    endpoints.push({
      method: OperationActivity.method.getOperationCounts,
      httpRules: [ruleOfBinding({ method: "GET", path: `${service.names.restTemplates(prefix).list}:counts` })],
      grpc: true,
      invoke: (r, ctx) => service.counts(r as GetOperationCountsRequest, ctx.scope),
      access: list.access,
    });
  }
  if (options.watch === true) {
    // The dashboard's view of one operation: who may get it may see its details (the same guard, the
    // same owner check, so a denial says no more than GetOperation's).
    endpoints.push({
      method: OperationActivity.method.getOperationDetails,
      httpRules: [ruleOfBinding({ method: "GET", path: `${service.names.restTemplates(prefix).operation}:details` })],
      grpc: true,
      invoke: (r) => service.details(r as GetOperationDetailsRequest),
      access: methods.GetOperation.access,
    });
  }
  {
    // Running a failed operation again: who may see it (GetOperation's guard and owner check, so a denial
    // says no more than GetOperation's) and may start its method where it was started (`further`).
    const methodOptions = options.methodOptions ?? (() => ({ permissionPrefix: options.permissionPrefix }));
    endpoints.push({
      method: OperationActivity.method.retryOperation,
      httpRules: [ruleOfBinding(retryOperationRestBinding(service.names.restTemplates(prefix)))],
      grpc: true,
      invoke: (r, ctx) => service.retryOperation(r as RetryOperationRequest, ctx),
      access: {
        ...methods.GetOperation.access,
        mutation: true,
        further: async (r) => {
          const target = await service.retryAuthorization(r as RetryOperationRequest);
          if (target === undefined) return undefined;
          const start = startAccess(service, target.definition, methodOptions(target.definition));
          return { permission: start.permission, resource: start.resource(target.request) };
        },
      },
    });
  }
  if (parentPattern === "" && (options.gaxFallbackBinding ?? true)) {
    // The single segment is the whole name percent-encoded, or just the id: both mean the same operation.
    const fullName = (request: GetOperationRequest): string =>
      request.name.startsWith(`${collection}/`) ? request.name : `${collection}/${request.name}`;
    endpoints.push({
      method: m.getOperation,
      httpRules: [ruleOfBinding({ method: "GET", path: `${prefix}/${collection}/{name}` })],
      grpc: false,
      invoke: (r) => {
        const request = r as GetOperationRequest;
        request.name = fullName(request);
        return service.getOperation(request);
      },
      access: {
        ...methods.GetOperation.access,
        resource: (r) => fullName(r as GetOperationRequest),
        ...ownerCheck(service, (r) => fullName(r as GetOperationRequest)),
      },
    });
  }
  return endpoints;
}

/**
 * For deployments whose operation names have no parent (`operations/{id}`), whose tenants the names do
 * not tell apart: the guard's second check of a call on an operation, on the resource it belongs to (the
 * one its start was authorized on, read through the service's batched reads). Nothing for parent-scoped
 * names, which say where the operation belongs.
 */
function ownerCheck(service: OperationsService, nameOf: (request: Message) => string): Pick<EndpointAccess, "owner"> {
  return service.names.parentPattern === "" ? { owner: (request) => service.ownerOf(nameOf(request)) } : {};
}

function listScopeCheck(listScope: OperationsEndpointOptions["listScope"]): Pick<EndpointAccess, "scope"> {
  return listScope ? { scope: (request) => listScope(request as ListOperationsRequest) } : {};
}

export interface MethodEndpointOptions {
  /** @default DEFAULT_PERMISSION_PREFIX */
  permissionPrefix?: string;
  /**
   * The permission that starts the method's operations, as the served service names it (Cloud
   * Translation's batch methods: `cloudtranslate.operations.create`). @default `<prefix>.operations.<method>`, the
   * RPC's name in lowerCamelCase (`longrun.operations.sleep`)
   */
  permission?: string;
}

/**
 * The endpoint of a served long-running method: its own RPC, answered with a new Operation. Its
 * permission is checked on the parent the operation will be named under (the collection for unscoped
 * names) unless the method names its own (`permissionResource`), so a tenant's bindings decide where it may
 * start work. An operation started on a resource of the method's own belongs to it: it is kept with the
 * operation (StartOptions.resource), and calls on the operation are also authorized there when its name
 * has no parent.
 */
export function methodEndpoint(service: OperationsService, definition: MethodDefinition, options: MethodEndpointOptions = {}): Endpoint {
  const rules: HttpRule[] = hasOption(definition.method, http) ? [getOption(definition.method, http)] : [];
  const { permissionResource } = definition;
  const access = startAccess(service, definition, options);
  return {
    method: definition.method,
    httpRules: rules,
    grpc: true,
    invoke: permissionResource
      ? (request, ctx) => service.startOperation(definition.fullName, request, { principal: ctx.principal, resource: permissionResource(request), traceContext: ctx.traceContext?.() })
      : (request, ctx) => service.startOperation(definition.fullName, request, { principal: ctx.principal, traceContext: ctx.traceContext?.() }),
    access,
  };
}

/**
 * What a start of the method needs: its permission, on the parent the operation will be named under (the
 * collection for unscoped names) or the method's own resource (`permissionResource`). Also what
 * RetryOperation needs, on the retried operation's request.
 */
export function startAccess(service: OperationsService, definition: MethodDefinition, options: MethodEndpointOptions = {}): EndpointAccess {
  const { names } = service;
  const prefix = options.permissionPrefix ?? DEFAULT_PERMISSION_PREFIX;
  const name = definition.method.name;
  return {
    permission: options.permission ?? `${prefix}.operations.${name.charAt(0).toLowerCase()}${name.slice(1)}`,
    resource:
      definition.permissionResource ??
      ((request) => (names.parentPattern !== "" && definition.parentOf ? definition.parentOf(request) : names.collection)),
    mutation: true,
    role: "editor",
  };
}

export interface OperationControlOptions {
  /**
   * The RPC, from generated code (e.g. Storage Transfer's `PauseTransferOperation`): its request names the
   * operation, its response is empty, its `google.api.http` rules are its REST bindings.
   */
  method: DescMethod;
  /** The command the handler sees in `ctx.control` (e.g. "pause"). */
  command: string;
  /** The request field holding the operation's name. @default "name" */
  nameField?: string;
  /** @default DEFAULT_PERMISSION_PREFIX */
  permissionPrefix?: string;
}

/**
 * A custom method on operations (AIP-136), such as pause or resume: it records `command` for the named
 * operation and the handler running it sees it in `ctx.control`, on whichever instance runs it (the same
 * path as cancellation). Answers the method's empty response; NOT_FOUND for an unknown operation,
 * FAILED_PRECONDITION for one that is done.
 */
export function operationControlEndpoint(service: OperationsService, options: OperationControlOptions): Endpoint {
  const { method, command } = options;
  const fieldName = options.nameField ?? "name";
  const field = method.input.fields.find((f) => f.name === fieldName);
  if (!field || field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) {
    throw new Error(`${method.parent.typeName}.${method.name}: its request has no string field "${fieldName}" naming the operation`);
  }
  const rules: HttpRule[] = hasOption(method, http) ? [getOption(method, http)] : [];
  const nameOf = (request: Message): string => (request as unknown as Record<string, string>)[field.localName] ?? "";
  return {
    method,
    httpRules: rules,
    grpc: true,
    invoke: async (request) => {
      await service.controlOperation(nameOf(request), command);
      return create(method.output);
    },
    access: {
      permission: `${options.permissionPrefix ?? DEFAULT_PERMISSION_PREFIX}.operations.${command}`,
      resource: nameOf,
      mutation: true,
      role: "operator",
      ...ownerCheck(service, nameOf),
    },
  };
}

type Invoke = (request: Message, ctx: CallContext) => Promise<Message>;

function additionalRule(binding: AdditionalBinding): HttpRule {
  const verbs = (["get", "post", "delete"] as const).filter((verb) => binding[verb] !== undefined);
  if (verbs.length !== 1) throw new Error(`an additional binding of ${binding.method} needs exactly one of get, post, delete`);
  const verb = verbs[0]!;
  return ruleOfBinding({ method: verb.toUpperCase(), path: binding[verb]!, body: binding.body ?? (verb === "post" ? "*" : "") });
}
