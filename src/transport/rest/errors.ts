import { create, createRegistry, toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { AnySchema, anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { Code, codeName, httpStatusFromCode } from "../../core/code.js";
import { Reason, RpcError } from "../../core/errors.js";
import { BadRequestSchema, BadRequest_FieldViolationSchema, file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { stringifyJson } from "./json.js";

/**
 * The one place REST error bodies are built (AIP-193 HTTP/JSON envelope):
 *
 *     {"error": {"code": <HTTP status>, "message": "...", "status": "<google.rpc.Code name>", "details": [Any...]}}
 *
 * `details` are the Status details as proto3 JSON `Any` (`{"@type": ..., ...}`); RpcError.toStatus always
 * adds an ErrorInfo with the deployment's domain.
 */
export interface ErrorResponse {
  httpStatus: number;
  body: string;
}

/** google.rpc detail types are always renderable, even when the caller's registry lacks them. */
const fallbackRegistry = createRegistry(file_google_rpc_error_details);

export function renderError(
  err: RpcError,
  domain: string,
  registry: Registry,
  pretty: boolean,
  log: (message: string) => void,
): ErrorResponse {
  // An "error" with code OK is a bug in whoever threw it; never answer 200 with an error body.
  const code = err.code === Code.OK ? Code.UNKNOWN : err.code;
  const status = err.toStatus(domain);
  const httpStatus = httpStatusFromCode(code);
  const details: JsonValue[] = [];
  for (const d of status.details) {
    const json = detailToJson(d, registry, log);
    if (json !== undefined) details.push(json);
  }
  const envelope = {
    error: {
      code: httpStatus,
      message: status.message,
      status: codeName(code),
      details,
    },
  };
  return { httpStatus, body: stringifyJson(envelope, pretty) };
}

function detailToJson(detail: Any, registry: Registry, log: (message: string) => void): JsonValue | undefined {
  try {
    return typeFirst(toJson(AnySchema, detail, { registry }));
  } catch {
    try {
      return typeFirst(toJson(AnySchema, detail, { registry: fallbackRegistry }));
    } catch {
      // A detail type nobody registered cannot be written as proto3 JSON (and clients could not read it).
      log(`dropping error detail of unregistered type ${detail.typeUrl}`);
      return undefined;
    }
  }
}

/** `{"@type": ..., ...}`, the order Google writes (the codec puts "@type" last). */
function typeFirst(json: JsonValue): JsonValue {
  if (json === null || typeof json !== "object" || Array.isArray(json) || !("@type" in json)) return json;
  return { "@type": json["@type"]!, ...json };
}

// ---- The errors the REST transport itself answers with. ----

/**
 * INVALID_ARGUMENT for a request that cannot be turned into the request message (bad JSON, unknown field,
 * bad query parameter...). `field` names the offending field or parameter when there is one.
 */
export function malformedRequest(message: string, field?: string): RpcError {
  const metadata: Record<string, string> = { detail: message };
  const details: Any[] = [];
  if (field !== undefined) {
    metadata["field"] = field;
    const violation = create(BadRequest_FieldViolationSchema, { field, description: message });
    details.push(anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [violation] })));
  }
  return new RpcError(Code.INVALID_ARGUMENT, message, { reason: Reason.MALFORMED_REQUEST, metadata, details });
}

/** What Google's front end answers for an oversized body. */
export function requestTooLarge(limit: number): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `Request payload size exceeds the limit: ${limit} bytes.`, {
    reason: Reason.REQUEST_TOO_LARGE,
    metadata: { limit: String(limit) },
  });
}

export function unknownPath(method: string, path: string): RpcError {
  return new RpcError(Code.NOT_FOUND, `No REST binding matches ${method} ${path}.`, {
    reason: Reason.UNKNOWN_PATH,
    metadata: { method, path },
  });
}

/** The path exists for other HTTP methods only; answered as NOT_FOUND like Google does. */
export function methodNotBound(method: string, path: string, allowed: readonly string[]): RpcError {
  return new RpcError(
    Code.NOT_FOUND,
    `No REST binding matches ${method} ${path} (that path is bound for ${allowed.join(", ")}).`,
    { reason: Reason.UNKNOWN_PATH, metadata: { method, path, allowed: allowed.join(",") } },
  );
}

/** A bug or an unexpected failure: the wire never carries its cause. */
export function internalError(): RpcError {
  return new RpcError(Code.INTERNAL, "Internal error.", { reason: Reason.INTERNAL });
}
