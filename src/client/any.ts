import { fromBinary, type DescMessage, type Message, type MessageShape, type Registry } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { UnexpectedTypeError, UnknownTypeError } from "./errors.js";

/** The message name of an Any's type URL: `type.googleapis.com/a.b.C` → `a.b.C`. */
export function typeNameOf(any: Any): string {
  return any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
}

/**
 * Decodes an Any: as `expected` when given (UnexpectedTypeError if the Any holds another type), else as
 * the type its URL names, looked up in the registry (UnknownTypeError if the registry lacks it).
 * `where` names the Any in errors ("the response of operations/abc").
 */
export function unpackAny<Desc extends DescMessage>(any: Any, registry: Registry, expected: Desc, where: string): MessageShape<Desc>;
export function unpackAny(any: Any, registry: Registry, expected: DescMessage | undefined, where: string): Message;
export function unpackAny(any: Any, registry: Registry, expected: DescMessage | undefined, where: string): Message {
  const typeName = typeNameOf(any);
  if (expected !== undefined) {
    if (typeName !== expected.typeName) throw new UnexpectedTypeError(expected.typeName, typeName, where);
    return fromBinary(expected, any.value);
  }
  const schema = registry.getMessage(typeName);
  if (schema === undefined) throw new UnknownTypeError(typeName, where);
  return fromBinary(schema, any.value);
}
