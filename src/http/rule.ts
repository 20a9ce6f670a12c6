import { create } from "@bufbuild/protobuf";
import { CustomHttpPatternSchema, HttpRuleSchema, type HttpRule } from "../gen/google/api/http_pb.js";

/** A REST binding of one RPC: `{ method: "POST", path: "/v1/{name=operations/**}:cancel", body: "*" }`. */
export interface RestBinding {
  /** The HTTP method: GET, POST, PUT, PATCH, DELETE (or a custom one). */
  readonly method: string;
  /** A google.api.http path template. */
  readonly path: string;
  /** `"*"`: the request (less path fields) is the body; a field name: that field is; absent: no body. */
  readonly body?: string;
}

/**
 * A google.api.http rule as a RestBinding (its `additional_bindings` aside); undefined for a rule without a
 * pattern. A custom pattern's kind is upper-cased, as the server routes it.
 */
export function bindingOfRule(rule: HttpRule): RestBinding | undefined {
  const { pattern } = rule;
  const body = rule.body === "" ? undefined : rule.body;
  switch (pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      return { method: pattern.case.toUpperCase(), path: pattern.value, body };
    case "custom":
      return { method: pattern.value.kind.toUpperCase(), path: pattern.value.path, body };
    default:
      return undefined;
  }
}

const STANDARD_METHODS = { GET: "get", PUT: "put", POST: "post", DELETE: "delete", PATCH: "patch" } as const;

/** A RestBinding as the google.api.http rule a server serves it by (the inverse of bindingOfRule). */
export function ruleOfBinding(binding: RestBinding): HttpRule {
  const verb = STANDARD_METHODS[binding.method.toUpperCase() as keyof typeof STANDARD_METHODS];
  const pattern: HttpRule["pattern"] =
    verb === undefined
      ? { case: "custom", value: create(CustomHttpPatternSchema, { kind: binding.method, path: binding.path }) }
      : { case: verb, value: binding.path };
  return create(HttpRuleSchema, { pattern, body: binding.body ?? "" });
}

/** The methods of google.longrunning.Operations, by their short names. */
export type OperationsRpc = "ListOperations" | "GetOperation" | "DeleteOperation" | "CancelOperation" | "WaitOperation";

/**
 * The REST bindings of google.longrunning.Operations over a deployment's path templates (from
 * `OperationNames.restTemplates`): what the server serves and what the client calls, written once.
 * Wait's is the one Cloud services add (the upstream proto has none).
 */
export function operationsRestBindings(templates: { operation: string; list: string }): Record<OperationsRpc, RestBinding> {
  const { operation: one, list } = templates;
  return {
    ListOperations: { method: "GET", path: list },
    GetOperation: { method: "GET", path: one },
    DeleteOperation: { method: "DELETE", path: one },
    CancelOperation: { method: "POST", path: `${one}:cancel`, body: "*" },
    WaitOperation: { method: "POST", path: `${one}:wait`, body: "*" },
  };
}

/**
 * The REST binding of longrun.admin.v1.OperationActivity.RetryOperation over the same templates (a custom
 * method on the operation, AIP-136): what the server serves and what the client calls.
 */
export function retryOperationRestBinding(templates: { operation: string }): RestBinding {
  return { method: "POST", path: `${templates.operation}:retry`, body: "*" };
}
