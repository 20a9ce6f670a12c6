import { create, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { Code, codeName, isErrorCode } from "./code.js";
import { DEFAULTS } from "./defaults.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import {
  BadRequestSchema,
  BadRequest_FieldViolationSchema,
  ErrorInfoSchema,
} from "../gen/google/rpc/error_details_pb.js";

/** The ErrorInfo domain longrun uses unless a deployment names its own service (AIP-193). */
export const DEFAULT_ERROR_DOMAIN: string = DEFAULTS.errorDomain.value;

export interface RpcErrorOptions {
  /** UPPER_SNAKE_CASE reason for the ErrorInfo detail (AIP-193); one of `Reason` for longrun's own errors. */
  reason?: string;
  /** Dynamic parts of the message, repeated as ErrorInfo metadata (AIP-193). */
  metadata?: Record<string, string>;
  /** Further standard details (google.rpc.*), already packed. */
  details?: Any[];
  cause?: unknown;
}

/**
 * An error with a `google.rpc.Code`. Thrown by the service for a bad call, and by handlers to end an
 * operation with that status. Transports render it the same way: gRPC status + `grpc-status-details-bin`,
 * REST `{"error": {...}}`.
 */
export class RpcError extends Error {
  override readonly name = "RpcError";
  readonly code: Code;
  readonly reason: string | undefined;
  readonly metadata: Record<string, string>;
  readonly details: Any[];

  constructor(code: Code, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.metadata = options.metadata ?? {};
    this.details = options.details ?? [];
  }

  /** An RpcError carrying exactly the given status (its details kept as they are). */
  static fromStatus(status: Status): RpcError {
    const code = isErrorCode(status.code) ? status.code : Code.UNKNOWN;
    return new RpcError(code, status.message, { details: status.details });
  }

  /**
   * The status as an RPC error response carries it: the details given, plus an ErrorInfo
   * (AIP-193: every error response includes one) when a reason is known.
   */
  toStatus(domain: string = DEFAULT_ERROR_DOMAIN): Status {
    const details = [...this.details];
    const hasErrorInfo = details.some((d) => d.typeUrl.endsWith("/google.rpc.ErrorInfo"));
    if (!hasErrorInfo) {
      details.unshift(
        anyPack(
          ErrorInfoSchema,
          create(ErrorInfoSchema, {
            reason: this.reason ?? reasonForCode(this.code),
            domain,
            metadata: this.metadata,
          }),
        ),
      );
    }
    return create(StatusSchema, { code: this.code, message: this.message, details });
  }

  /** The status as an operation's `error` carries it: only what the handler put there. */
  toOperationStatus(): Status {
    return create(StatusSchema, { code: this.code, message: this.message, details: this.details });
  }
}

function reasonForCode(code: Code): string {
  return codeName(code);
}

/** Any thrown value as an RpcError: RpcErrors pass through; anything else is UNKNOWN with its message only. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  if (err instanceof Error) return new RpcError(Code.UNKNOWN, err.message || err.name, { cause: err });
  return new RpcError(Code.UNKNOWN, String(err));
}

export function encodeStatus(status: Status): Uint8Array {
  return toBinary(StatusSchema, status);
}

/** Packs a message into an `Any` with the `type.googleapis.com/` prefix. */
export function pack<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return anyPack(schema, message);
}

/**
 * The catalogue of ErrorInfo reasons longrun itself answers with. A reason names one error class; its
 * metadata keys are only ever added to, never removed (AIP-193).
 */
export const Reason = {
  /** A request field is malformed or out of range; metadata `field`. */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  /** An operation name does not have the form this service uses; metadata `name`. */
  INVALID_NAME: "INVALID_NAME",
  /** No operation has this name (never existed, deleted, or expired); metadata `name`. */
  OPERATION_NOT_FOUND: "OPERATION_NOT_FOUND",
  /** A control command (pause, resume…) on an operation that is done; metadata `name`, `command`. */
  OPERATION_DONE: "OPERATION_DONE",
  /**
   * RetryOperation on an operation that did not fail: it is queued, running, or done with a response (only
   * one done with an error, cancelled included, can be run again); metadata `name`, `state`.
   */
  OPERATION_NOT_FAILED: "OPERATION_NOT_FAILED",
  /** RetryOperation on an operation whose stored request no longer decodes as its method's request type; metadata `name`. */
  STORED_REQUEST_UNREADABLE: "STORED_REQUEST_UNREADABLE",
  /** `page_size` is negative. */
  INVALID_PAGE_SIZE: "INVALID_PAGE_SIZE",
  /** `page_token` is not one this server issued for this request, or it expired. */
  INVALID_PAGE_TOKEN: "INVALID_PAGE_TOKEN",
  /**
   * `filter` is malformed, or uses what this server does not support; metadata `field` ("filter") and,
   * when the problem has a place, `column` (1-based).
   */
  INVALID_FILTER: "INVALID_FILTER",
  /** The method, or an option of it, is not offered by this deployment; metadata `method`. */
  UNIMPLEMENTED: "UNIMPLEMENTED",
  /** The request body or a query parameter cannot be parsed; metadata `detail`. */
  MALFORMED_REQUEST: "MALFORMED_REQUEST",
  /** The request body is larger than the server accepts; metadata `limit`. */
  REQUEST_TOO_LARGE: "REQUEST_TOO_LARGE",
  /** The REST request line and headers (the URL among them) are larger than the server accepts; HTTP 431. Metadata `limit`. */
  REQUEST_HEADERS_TOO_LARGE: "REQUEST_HEADERS_TOO_LARGE",
  /**
   * A REST request body that is not JSON (`application/json` or `application/*+json`), or a non-JSON
   * Content-Type on a request without one; HTTP 415. Metadata `contentType` (empty when none was sent).
   */
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  /**
   * A REST request body in a Content-Encoding the server does not decompress (it reads `gzip`, `deflate`,
   * `br`); HTTP 415. Metadata `contentEncoding`.
   */
  UNSUPPORTED_CONTENT_ENCODING: "UNSUPPORTED_CONTENT_ENCODING",
  /** The REST request's Host is not one this server answers for (DNS rebinding); HTTP 421. Metadata `host`. */
  HOST_NOT_ALLOWED: "HOST_NOT_ALLOWED",
  /** A browser's cross-origin request (or CORS preflight) from an origin not allowed; metadata `origin`. */
  ORIGIN_NOT_ALLOWED: "ORIGIN_NOT_ALLOWED",
  /** No REST binding matches the method and path. */
  UNKNOWN_PATH: "UNKNOWN_PATH",
  /** The caller went away (connection closed, call cancelled) before it was answered. */
  CANCELLED: "CANCELLED",
  /** The store cannot be reached; retry with backoff. */
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  /**
   * The store has no space left to write (the disk of the SQLite file is full): nothing was written, reads
   * still work; retry with backoff once space is freed (UNAVAILABLE, like STORE_UNAVAILABLE).
   */
  STORE_FULL: "STORE_FULL",
  /** The server is shutting down: it starts no operation, and gives back those it runs; retry elsewhere. */
  SHUTTING_DOWN: "SHUTTING_DOWN",
  /**
   * The operation is no longer run by this worker (another took it over after its lease expired): what a
   * handler's signal and its refused `ctx.progress` carry; metadata `name`.
   */
  LEASE_LOST: "LEASE_LOST",
  /** A start's request_id was used before by another caller or for another parent (AIP-155 idempotency is per caller). */
  REQUEST_ID_IN_USE: "REQUEST_ID_IN_USE",
  /** A start's request_id was used before by the same caller for a different request; metadata `field`. */
  REQUEST_ID_REUSED: "REQUEST_ID_REUSED",
  /** The call carries no credentials, and the server requires them. */
  CREDENTIALS_MISSING: "CREDENTIALS_MISSING",
  /** The API key is not one this server knows. */
  API_KEY_INVALID: "API_KEY_INVALID",
  /** The bearer token cannot be verified (signature, key, issuer, audience, form). */
  ACCESS_TOKEN_INVALID: "ACCESS_TOKEN_INVALID",
  /** The bearer token has expired (or is not valid yet). */
  ACCESS_TOKEN_EXPIRED: "ACCESS_TOKEN_EXPIRED",
  /** The JWKS that verifies bearer tokens cannot be fetched right now; retry. */
  JWKS_UNAVAILABLE: "JWKS_UNAVAILABLE",
  /** The token lacks every OAuth scope the method accepts; metadata `method`. */
  ACCESS_TOKEN_SCOPE_INSUFFICIENT: "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
  /**
   * The caller lacks the permission on the resource, or the resource does not exist (a denial does not
   * tell which, AIP-211); metadata `permission`, `resource`.
   */
  IAM_PERMISSION_DENIED: "IAM_PERMISSION_DENIED",
  /** A bug in longrun; the message says no more than that. */
  INTERNAL: "INTERNAL",
  /**
   * What an operation would hold is over this server's cap (`maxResponseBytes`, `maxMetadataBytes`): the
   * operation's error when its handler's response is too large, the rejection of a too large ctx.progress.
   * Metadata `field` ("response" or "metadata"), `size`, `limit`.
   */
  OPERATION_TOO_LARGE: "OPERATION_TOO_LARGE",
} as const;

/**
 * INVALID_ARGUMENT naming the field, with a BadRequest field violation (AIP-193). `metadata` adds ErrorInfo
 * metadata besides `field` (the dynamic parts of the description, e.g. a filter's `column`).
 */
export function invalidArgument(
  field: string,
  description: string,
  reason: string = Reason.INVALID_ARGUMENT,
  metadata: Record<string, string> = {},
): RpcError {
  const violation = create(BadRequest_FieldViolationSchema, { field, description });
  return new RpcError(Code.INVALID_ARGUMENT, `${field}: ${description}`, {
    reason,
    metadata: { ...metadata, field },
    details: [anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [violation] }))],
  });
}

export function notFound(name: string): RpcError {
  return new RpcError(Code.NOT_FOUND, `Operation "${name}" not found.`, {
    reason: Reason.OPERATION_NOT_FOUND,
    metadata: { name },
  });
}

export function unimplemented(what: string): RpcError {
  return new RpcError(Code.UNIMPLEMENTED, `${what} is not supported by this server.`, {
    reason: Reason.UNIMPLEMENTED,
    metadata: { method: what },
  });
}

export function shuttingDown(): RpcError {
  return new RpcError(Code.UNAVAILABLE, "The server is shutting down.", { reason: Reason.SHUTTING_DOWN });
}

export function leaseLost(name: string): RpcError {
  return new RpcError(Code.ABORTED, "The operation is no longer run by this worker.", { reason: Reason.LEASE_LOST, metadata: { name } });
}

/**
 * UNAUTHENTICATED with one of the credential reasons. The message is the same for every reason (Google's
 * words): the reason says what kind of problem it is, nothing says more about a rejected token or key.
 */
export function unauthenticated(reason: string): RpcError {
  return new RpcError(
    Code.UNAUTHENTICATED,
    "Request is missing required authentication credential or had invalid authentication credentials.",
    { reason },
  );
}

/** PERMISSION_DENIED for a permission on a resource, whether or not the resource exists (AIP-211). */
export function permissionDenied(permission: string, resource: string): RpcError {
  return new RpcError(Code.PERMISSION_DENIED, `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`, {
    reason: Reason.IAM_PERMISSION_DENIED,
    metadata: { permission, resource },
  });
}

/** PERMISSION_DENIED for a token that carries none of the OAuth scopes the method accepts. */
export function scopeInsufficient(method: string): RpcError {
  return new RpcError(Code.PERMISSION_DENIED, "Request had insufficient authentication scopes.", {
    reason: Reason.ACCESS_TOKEN_SCOPE_INSUFFICIENT,
    metadata: { method },
  });
}

// ---- The errors the transports themselves answer with (the same on gRPC and REST). ----

/**
 * INVALID_ARGUMENT for a request that cannot be turned into the request message (bad JSON, unknown field,
 * bad query parameter, undecodable protobuf…). `field` names the offending field or parameter when there is
 * one; `detail` is the ErrorInfo metadata of that name (the message unless given).
 */
export function malformedRequest(message: string, field?: string, detail: string = message): RpcError {
  const metadata: Record<string, string> = { detail };
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

/** A REST body that does not say it is JSON (the REST renderer answers HTTP 415 for this reason). */
export function unsupportedMediaType(contentType: string | undefined): RpcError {
  const message =
    contentType === undefined
      ? "The request body has no Content-Type: send it as application/json."
      : `Content-Type ${JSON.stringify(contentType)} is not supported: send the request body as application/json.`;
  return new RpcError(Code.INVALID_ARGUMENT, message, {
    reason: Reason.UNSUPPORTED_MEDIA_TYPE,
    metadata: { contentType: contentType ?? "" },
  });
}

/** A REST body compressed in a coding this server does not read (the REST renderer answers HTTP 415). */
export function unsupportedContentEncoding(contentEncoding: string): RpcError {
  return new RpcError(
    Code.INVALID_ARGUMENT,
    `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported: send the body uncompressed, or as gzip, deflate or br.`,
    { reason: Reason.UNSUPPORTED_CONTENT_ENCODING, metadata: { contentEncoding } },
  );
}

/** A Host this server does not answer for (the REST renderer answers HTTP 421 Misdirected Request). */
export function hostNotAllowed(host: string | undefined): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `This server does not answer for host ${JSON.stringify(host ?? "")}.`, {
    reason: Reason.HOST_NOT_ALLOWED,
    metadata: { host: host ?? "" },
  });
}

/** A browser request from an origin the server does not allow cross-origin calls from. */
export function originNotAllowed(origin: string): RpcError {
  return new RpcError(Code.PERMISSION_DENIED, `Cross-origin requests from ${JSON.stringify(origin)} are not allowed.`, {
    reason: Reason.ORIGIN_NOT_ALLOWED,
    metadata: { origin },
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

/** The caller went away before the answer; `message` says when. */
export function callerGone(message: string): RpcError {
  return new RpcError(Code.CANCELLED, message, { reason: Reason.CANCELLED });
}

/** A bug or an unexpected failure: the wire never carries its cause. */
export function internalError(): RpcError {
  return new RpcError(Code.INTERNAL, "Internal error.", { reason: Reason.INTERNAL });
}

/**
 * RESOURCE_EXHAUSTED: the operation's `field` ("response", "metadata") would be `size` bytes encoded, over the
 * `limit`. The message says only the sizes, never the oversized content.
 */
export function operationTooLarge(field: "response" | "metadata", size: number, limit: number): RpcError {
  return new RpcError(Code.RESOURCE_EXHAUSTED, `The operation's ${field} is ${size} bytes, over the ${limit}-byte limit.`, {
    reason: Reason.OPERATION_TOO_LARGE,
    metadata: { field, size: String(size), limit: String(limit) },
  });
}

/** A REST request whose request line and headers (the URL among them) pass the server's limit; HTTP 431. */
export function requestHeadersTooLarge(limit: number): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `Request headers (the URL included) exceed the limit: ${limit} bytes.`, {
    reason: Reason.REQUEST_HEADERS_TOO_LARGE,
    metadata: { limit: String(limit) },
  });
}
