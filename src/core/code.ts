import { Code } from "../gen/google/rpc/code_pb.js";

export { Code };

/** The canonical name of a `google.rpc.Code` ("NOT_FOUND"), as REST error bodies carry it in `status`. */
export function codeName(code: Code): string {
  return Code[code] ?? "UNKNOWN";
}

/** Whether `n` is a `google.rpc.Code` an operation may end with (1..16; OK is not an error). */
export function isErrorCode(n: number): n is Code {
  return Number.isInteger(n) && n >= 1 && n <= 16;
}

/**
 * google.rpc.Code → HTTP status, Google's canonical table (google/rpc/code.proto; the same table
 * gapic-showcase uses in util/genrest/resttools/error_response.go).
 */
export function httpStatusFromCode(code: Code): number {
  switch (code) {
    case Code.OK: return 200;
    case Code.CANCELLED: return 499; // Client Closed Request
    case Code.UNKNOWN: return 500;
    case Code.INVALID_ARGUMENT: return 400;
    case Code.DEADLINE_EXCEEDED: return 504;
    case Code.NOT_FOUND: return 404;
    case Code.ALREADY_EXISTS: return 409;
    case Code.PERMISSION_DENIED: return 403;
    case Code.RESOURCE_EXHAUSTED: return 429;
    case Code.FAILED_PRECONDITION: return 400;
    case Code.ABORTED: return 409;
    case Code.OUT_OF_RANGE: return 400;
    case Code.UNIMPLEMENTED: return 501;
    case Code.INTERNAL: return 500;
    case Code.UNAVAILABLE: return 503;
    case Code.DATA_LOSS: return 500;
    case Code.UNAUTHENTICATED: return 401;
    default: return 500;
  }
}

/**
 * HTTP status → google.rpc.Code for an answer that carries no google.rpc.Status (a proxy's page, a server
 * without the route): gRPC's mapping (grpc/doc/http-grpc-status-mapping.md), which the REST client follows.
 */
export function codeOfHttpStatus(status: number): Code {
  switch (status) {
    case 400: return Code.INTERNAL;
    case 401: return Code.UNAUTHENTICATED;
    case 403: return Code.PERMISSION_DENIED;
    case 404: return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return Code.UNAVAILABLE;
    default: return Code.UNKNOWN;
  }
}

/**
 * The code of a Google error envelope that has no `status`: the inverse of the table above
 * (httpStatusFromCode), where it is one-to-one enough.
 */
export function codeOfEnvelopeStatus(status: number): Code {
  switch (status) {
    case 400: return Code.INVALID_ARGUMENT;
    case 401: return Code.UNAUTHENTICATED;
    case 403: return Code.PERMISSION_DENIED;
    case 404: return Code.NOT_FOUND;
    case 409: return Code.ABORTED;
    case 429: return Code.RESOURCE_EXHAUSTED;
    case 499: return Code.CANCELLED;
    case 501: return Code.UNIMPLEMENTED;
    case 503: return Code.UNAVAILABLE;
    case 504: return Code.DEADLINE_EXCEEDED;
    default: return status >= 500 ? Code.INTERNAL : Code.UNKNOWN;
  }
}
