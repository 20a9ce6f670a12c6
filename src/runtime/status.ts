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

/**
 * The stored form of an operation's error. One over `maxBytes` encoded (message and details) is stored
 * truncated: the same code, the message cut (at a character boundary) and followed by a note saying so, the
 * details dropped — an operation must never hold more than a List page can carry.
 */
export function encodeError(status: Status, maxBytes: number = Number.POSITIVE_INFINITY): StoredError {
  const bytes = toBinary(StatusSchema, status);
  if (bytes.byteLength <= maxBytes) return { code: status.code, message: status.message, status: bytes };
  const note = ` … [truncated: the error was ${bytes.byteLength} bytes, over the ${maxBytes}-byte limit${status.details.length > 0 ? "; its details were dropped" : ""}]`;
  // Room for the code and the message's tag and length (at most 6 + 6 bytes) besides the note.
  const room = Math.max(0, maxBytes - 12 - Buffer.byteLength(note));
  const message = utf8Prefix(status.message, room) + note;
  const truncated = create(StatusSchema, { code: status.code, message });
  return { code: truncated.code, message, status: toBinary(StatusSchema, truncated) };
}

/** The longest prefix of `text` at most `maxBytes` long in UTF-8, cut between characters. */
function utf8Prefix(text: string, maxBytes: number): string {
  const encoded = Buffer.from(text, "utf8");
  if (encoded.byteLength <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end--; // not inside a multi-byte character
  return encoded.subarray(0, end).toString("utf8");
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
