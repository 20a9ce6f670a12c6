import { toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { typeFirst } from "../../core/any-json.js";
import { bytesKey, keepBounded } from "../../core/kept.js";
import type { Operation } from "../../gen/google/longrunning/operations_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";

/** Largest `Any` payload whose JSON is kept: a key holds the payload's bytes. */
const MAX_CACHED_PAYLOAD_BYTES = 1024;
/** `Any` JSON texts kept, at most; the oldest goes first. */
const MAX_CACHED_ANYS = 512;

/**
 * The proto3 JSON of a google.longrunning.Operation, as `toJson` (each Any's "@type" first) and
 * `JSON.stringify` write it, byte for byte, at a fraction of the cost: the envelope is written directly,
 * and the JSON of its `metadata` and `response` is kept by their bytes. Decoding an Any's payload and
 * writing it as JSON is most of the work, and a client polling an operation reads the same bytes again
 * and again until the operation moves (a done operation never does). The text of an Any depends on its
 * type URL, its bytes, the registry (fixed per writer) and the format: all in the key.
 */
export class OperationJsonWriter {
  private readonly anys = new Map<string, string>();

  constructor(private readonly registry: Registry) {}

  /** Undefined for an operation carrying unknown fields: `toJson` may write registered extensions of those. */
  write(operation: Operation, enumAsInteger: boolean, pretty: boolean): string | undefined {
    if (operation.$unknown !== undefined && operation.$unknown.length > 0) return undefined;
    const fields: string[] = [];
    const colon = pretty ? '": ' : '":';
    if (operation.name !== "") fields.push(`"name${colon}${JSON.stringify(operation.name)}`);
    if (operation.metadata !== undefined) fields.push(`"metadata${colon}${this.any(operation.metadata, enumAsInteger, pretty)}`);
    if (operation.done) fields.push(`"done${colon}true`);
    const { result } = operation;
    if (result.case === "error") {
      const status = typeFirst(toJson(StatusSchema, result.value, { registry: this.registry, enumAsInteger }));
      fields.push(`"error${colon}${nested(status, pretty)}`);
    } else if (result.case === "response") {
      fields.push(`"response${colon}${this.any(result.value, enumAsInteger, pretty)}`);
    }
    if (fields.length === 0) return pretty ? "{}\n" : "{}";
    return pretty ? `{\n  ${fields.join(",\n  ")}\n}\n` : `{${fields.join(",")}}`;
  }

  /** The JSON text of an Any one level down in the operation. */
  private any(any: Any, enumAsInteger: boolean, pretty: boolean): string {
    const { value } = any;
    if (value.byteLength > MAX_CACHED_PAYLOAD_BYTES) return this.render(any, enumAsInteger, pretty);
    const key = `${enumAsInteger ? "i" : "n"}${pretty ? "p" : "c"}${any.typeUrl}\n${bytesKey(value)}`;
    let text = this.anys.get(key);
    if (text === undefined) {
      text = this.render(any, enumAsInteger, pretty);
      keepBounded(this.anys, key, text, MAX_CACHED_ANYS);
    }
    return text;
  }

  private render(any: Any, enumAsInteger: boolean, pretty: boolean): string {
    return nested(typeFirst(toJson(AnySchema, any, { registry: this.registry, enumAsInteger })), pretty);
  }
}

/** `JSON.stringify` of a value one level down in a pretty-printed object: its lines indented once more. */
function nested(value: JsonValue, pretty: boolean): string {
  return pretty ? JSON.stringify(value, null, 2).replaceAll("\n", "\n  ") : JSON.stringify(value);
}
