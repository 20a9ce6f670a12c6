import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * Field lookup by the names a REST caller may use: the proto name (`page_size`) or the JSON name
 * (`pageSize`, or a custom `json_name`). Built once per message type and cached.
 */
const lookups = new WeakMap<DescMessage, ReadonlyMap<string, DescField>>();

export function fieldByName(message: DescMessage, name: string): DescField | undefined {
  let map = lookups.get(message);
  if (map === undefined) {
    const m = new Map<string, DescField>();
    for (const f of message.fields) m.set(f.name, f);
    // JSON names never shadow a proto name of another field.
    for (const f of message.fields) if (!m.has(f.jsonName)) m.set(f.jsonName, f);
    lookups.set(message, m);
    map = m;
  }
  return map.get(name);
}

/**
 * Resolves a dotted field path (`a.b`, with proto or JSON names) to its fields. Every field but the last
 * must be a singular message field. Returns a description of the problem instead when it does not resolve.
 */
export function resolveFieldPath(message: DescMessage, path: readonly string[]): DescField[] | string {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (let i = 0; i < path.length; i++) {
    const name = path[i]!;
    if (current === undefined) {
      return `"${path.slice(0, i).join(".")}" is not a message field`;
    }
    const field = fieldByName(current, name);
    if (field === undefined) {
      return `no field "${path.slice(0, i + 1).join(".")}" in ${message.typeName}`;
    }
    fields.push(field);
    if (i < path.length - 1) {
      if (field.fieldKind !== "message") return `"${path.slice(0, i + 1).join(".")}" is not a message field`;
      current = field.message;
    }
  }
  return fields;
}

/** The canonical (proto-name) dotted path of resolved fields, used to compare paths given in either naming. */
export function canonicalPath(fields: readonly DescField[]): string {
  let s = "";
  for (const f of fields) s = s === "" ? f.name : `${s}.${f.name}`;
  return s;
}
