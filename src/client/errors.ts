import { create, type Message, type Registry } from "@bufbuild/protobuf";
import { anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { Code, codeName } from "../core/code.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { ErrorInfoSchema, type ErrorInfo } from "../gen/google/rpc/error_details_pb.js";
import { BUILTIN_REGISTRY as FALLBACK } from "./registry.js";

/**
 * A failure that carries a `google.rpc.Status`: `code`, `message`, the details decoded through the client's
 * registry, and the ErrorInfo reason (AIP-193). The base of CallFailedError, OperationFailedError and
 * WaitTimeoutError; catch it to handle all three alike (the CLI turns `code` into its exit code).
 */
export class StatusError extends Error {
  override name = "StatusError";
  /** The google.rpc.Code (1–16). */
  readonly code: Code;
  /** The status as received, details still packed. */
  readonly status: Status;
  /** The details the registry could decode, in order (ErrorInfo, BadRequest, RetryInfo, …). */
  readonly details: Message[];
  /** The ErrorInfo detail, if the status has one. */
  readonly errorInfo: ErrorInfo | undefined;

  constructor(status: Status, registry: Registry | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = status.code === Code.OK ? Code.UNKNOWN : (status.code as Code);
    this.status = status;
    this.details = decodeDetails(status.details, registry);
    this.errorInfo = findErrorInfo(status.details);
  }

  /** ErrorInfo.reason (`OPERATION_NOT_FOUND`, …), if the status has an ErrorInfo. */
  get reason(): string | undefined {
    return this.errorInfo?.reason;
  }

  /** The code's name: `NOT_FOUND`. */
  get codeName(): string {
    return codeName(this.code);
  }
}

/**
 * Thrown by every client call (get, list, cancel, delete, wait, start) when the server answers with an
 * error status, or when the server cannot be reached (UNAVAILABLE, after the retries) or does not answer in
 * time (DEADLINE_EXCEEDED). An aborted call rejects with its AbortSignal's reason instead.
 */
export class CallFailedError extends StatusError {
  override name = "CallFailedError";
  /** The RPC, `google.longrunning.Operations/GetOperation`. */
  readonly method: string;

  constructor(method: string, status: Status, registry: Registry | undefined, options?: { cause?: unknown }) {
    super(status, registry, `${method}: ${codeName(status.code as Code)}: ${status.message}`, options);
    this.method = method;
  }
}

/**
 * Thrown by `OperationHandle.result()` when the operation is done with an `error`: the status is the
 * operation's own (a cancelled operation's code is CANCELLED).
 */
export class OperationFailedError extends StatusError {
  override name = "OperationFailedError";
  readonly operationName: string;

  constructor(operationName: string, status: Status, registry: Registry | undefined) {
    super(status, registry, `${operationName} failed: ${codeName(status.code as Code)}: ${status.message}`);
    this.operationName = operationName;
  }
}

/**
 * Thrown by `result()` and `client.wait()` when the operation is still running after the total timeout
 * they were given; the code is DEADLINE_EXCEEDED (what google-gax reports). The operation goes on.
 */
export class WaitTimeoutError extends StatusError {
  override name = "WaitTimeoutError";
  readonly operationName: string;
  readonly timeoutMs: number;

  constructor(operationName: string, timeoutMs: number) {
    const message = `${operationName} is still running after ${timeoutMs} ms`;
    super(create(StatusSchema, { code: Code.DEADLINE_EXCEEDED, message }), undefined, message);
    this.operationName = operationName;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown when a message type is needed that the client's registry does not hold: an `Any` (`@type`) in an
 * operation's metadata or response, or an `operation_info` type. Give the client the proto file that
 * declares it (`new LongrunClient({ files: [file_my_service] })`).
 */
export class UnknownTypeError extends Error {
  override name = "UnknownTypeError";
  /** The fully-qualified message name, `my.pkg.ExportMetadata`. */
  readonly typeName: string;

  constructor(typeName: string, where: string) {
    super(
      `Message type "${typeName}" (${where}) is not in the client's registry: ` +
        `give the client the proto file that declares it (new LongrunClient({ files: [...] })).`,
    );
    this.typeName = typeName;
  }
}

/**
 * Thrown by `result()` / `metadata` of a typed handle when the `Any` holds another type than the one the
 * handle was given (or the method's `operation_info` declares).
 */
export class UnexpectedTypeError extends Error {
  override name = "UnexpectedTypeError";
  readonly expected: string;
  readonly actual: string;

  constructor(expected: string, actual: string, where: string) {
    super(`${where} holds "${actual}", expected "${expected}".`);
    this.expected = expected;
    this.actual = actual;
  }
}

function decodeDetails(details: readonly Any[], registry: Registry | undefined): Message[] {
  const decoded: Message[] = [];
  for (const detail of details) {
    try {
      const message = anyUnpack(detail, registry ?? FALLBACK) ?? anyUnpack(detail, FALLBACK);
      if (message) decoded.push(message);
    } catch {
      // A detail whose bytes do not decode is left out of `details`; `status.details` still has it.
    }
  }
  return decoded;
}

function findErrorInfo(details: readonly Any[]): ErrorInfo | undefined {
  for (const detail of details) {
    if (detail.typeUrl.endsWith("/google.rpc.ErrorInfo")) {
      try {
        return anyUnpack(detail, ErrorInfoSchema);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
