import { create, fromBinary, toBinary, type Registry } from "@bufbuild/protobuf";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import { Code, isErrorCode } from "../core/code.js";
import type { Logger } from "../core/logger.js";
import { TYPE_URL_PREFIX } from "../core/registry.js";
import type { StoredAny, StoredError } from "../store/store.js";

export function statusOf(code: Code, message: string): Status {
  return create(StatusSchema, { code, message });
}

export function cancelledStatus(): Status {
  return statusOf(Code.CANCELLED, "The operation was cancelled.");
}

export function encodeError(status: Status): StoredError {
  return { code: status.code, message: status.message, status: toBinary(StatusSchema, status) };
}

export function packStored(typeName: string, value: Uint8Array): StoredAny {
  return { typeUrl: TYPE_URL_PREFIX + typeName, value };
}

/**
 * The status as it can be served to every client: a code from 1 to 16 (else UNKNOWN), and only the
 * details whose type the registry knows and whose bytes decode — an Any of an unknown type cannot be
 * written as JSON, and one such operation would break REST Get and List for everyone. What is dropped
 * is logged, so the handler's author sees it.
 */
export function servableStatus(status: Status, registry: Registry, operationName: string, log: Logger): Status {
  const details = status.details.filter((detail) => {
    const schema = registry.getMessage(detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1));
    if (!schema) return false;
    try {
      fromBinary(schema, detail.value);
      return true;
    } catch {
      return false;
    }
  });
  const code = isErrorCode(status.code) ? status.code : Code.UNKNOWN;
  if (details.length === status.details.length && code === status.code) return status;
  log(
    `${operationName}: the handler's error had code ${status.code} and ${status.details.length - details.length} detail(s) ` +
      "of types not in the registry or not decodable; kept the rest",
  );
  return create(StatusSchema, { code, message: status.message, details });
}
