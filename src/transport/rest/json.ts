import { toJson, type DescField, type DescMessage, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { typeFirst } from "../../core/any-json.js";
import { OperationSchema, type Operation } from "../../gen/google/longrunning/operations_pb.js";
import { OperationJsonWriter } from "./operation-json.js";

export { typeFirst };

/**
 * The proto3 JSON codec settings of the REST transport.
 *
 * Reading (`fromJson`): lowerCamelCase and proto field names both accepted, unknown fields rejected
 * (`ignoreUnknownFields: false`), `Any` resolved through the registry.
 * Writing (`toJson`): lowerCamelCase keys, default values omitted, enums by name unless the caller asked for
 * `$alt=json;enum-encoding=int`, `Any` as `{"@type": ...}`, Duration `"3.5s"`, Timestamp RFC 3339.
 */
export interface ResponseFormat {
  /** `$alt=json;enum-encoding=int`. */
  enumAsInteger: boolean;
  /** Indent with 2 spaces (Google's default); `$prettyPrint=false|0` turns it off. */
  pretty: boolean;
}

export const DEFAULT_FORMAT: ResponseFormat = { enumAsInteger: false, pretty: true };

export function stringifyJson(value: unknown, pretty: boolean): string {
  return pretty ? JSON.stringify(value, null, 2) + "\n" : JSON.stringify(value);
}

/**
 * The response body, as encodeResponse writes it; an Operation (what GetOperation and every start
 * answer) through an OperationJsonWriter, which writes the same text for less.
 */
export class ResponseEncoder {
  private readonly operations: OperationJsonWriter;

  constructor(private readonly registry: Registry) {
    this.operations = new OperationJsonWriter(registry);
  }

  encode(schema: DescMessage, message: Message, responseField: DescField | undefined, format: ResponseFormat): string {
    if (responseField === undefined && schema.typeName === OperationSchema.typeName) {
      const text = this.operations.write(message as Operation, format.enumAsInteger, format.pretty);
      if (text !== undefined) return text;
    }
    return encodeResponse(schema, message, responseField, this.registry, format);
  }
}

/**
 * The response body: the whole message, or only the `response_body` field when the rule names one.
 */
export function encodeResponse(
  schema: DescMessage,
  message: Message,
  responseField: DescField | undefined,
  registry: Registry,
  format: ResponseFormat,
): string {
  const json = typeFirst(toJson(schema, message, { registry, enumAsInteger: format.enumAsInteger })) as Record<string, JsonValue>;
  if (responseField === undefined) return stringifyJson(json, format.pretty);
  let value = json[responseField.jsonName];
  if (value === undefined) {
    // Omitted because it holds its default value: write that default explicitly.
    const full = typeFirst(
      toJson(schema, message, {
        registry,
        enumAsInteger: format.enumAsInteger,
        alwaysEmitImplicit: true,
      }),
    ) as Record<string, JsonValue>;
    value = full[responseField.jsonName] ?? (responseField.fieldKind === "message" ? {} : null);
  }
  return stringifyJson(value, format.pretty);
}

