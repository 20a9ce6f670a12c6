import { createRegistry, toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { Code, codeName, httpStatusFromCode } from "../../core/code.js";
import { Reason, type RpcError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { failureStatus } from "../status.js";
import { stringifyJson, typeFirst } from "./json.js";

/**
 * The one place REST error bodies are built (AIP-193 HTTP/JSON envelope), from the status failureStatus
 * gives (the one gRPC sends too):
 *
 *     {"error": {"code": <HTTP status>, "message": "...", "status": "<google.rpc.Code name>", "details": [Any...]}}
 *
 * `details` are the Status details as proto3 JSON `Any` (`{"@type": ..., ...}`), an ErrorInfo with the
 * deployment's domain among them.
 */
export interface ErrorResponse {
  httpStatus: number;
  body: string;
  /** The `WWW-Authenticate` header: RFC 6750 §3 has every 401 name the scheme that would get through. */
  challenge: string | undefined;
}

/** The challenge of a 401. Only the scheme and realm: which credential failed is the body's ErrorInfo. */
const BEARER_CHALLENGE = 'Bearer realm="longrun"';

/**
 * The HTTP statuses that are not the code's (httpStatusFromCode), by ErrorInfo reason: HTTP has a more
 * precise status for what these reasons say, and browsers, proxies and curl users read the status.
 * The body's `code` is this status too; its `status` stays the google.rpc.Code name.
 */
const HTTP_STATUS_OF_REASON: Readonly<Record<string, number>> = {
  [Reason.UNSUPPORTED_MEDIA_TYPE]: 415,
  [Reason.UNSUPPORTED_CONTENT_ENCODING]: 415,
  [Reason.HOST_NOT_ALLOWED]: 421,
  [Reason.REQUEST_TOO_LARGE]: 413,
  [Reason.REQUEST_HEADERS_TOO_LARGE]: 431,
};

/** google.rpc detail types are always renderable, even when the caller's registry lacks them. */
const fallbackRegistry = createRegistry(file_google_rpc_error_details);

export function renderError(
  err: RpcError,
  domain: string,
  registry: Registry,
  pretty: boolean,
  log: Logger,
): ErrorResponse {
  const status = failureStatus(err, domain, log, "unexpected failure");
  const code = status.code;
  const overridden = err.reason === undefined || code !== err.code ? undefined : HTTP_STATUS_OF_REASON[err.reason];
  const httpStatus = overridden ?? httpStatusFromCode(code);
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
  const challenge = code === Code.UNAUTHENTICATED ? BEARER_CHALLENGE : undefined;
  return { httpStatus, body: stringifyJson(envelope, pretty), challenge };
}

function detailToJson(detail: Any, registry: Registry, log: Logger): JsonValue | undefined {
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

