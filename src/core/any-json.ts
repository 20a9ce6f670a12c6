import { toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { OperationSchema, type Operation } from "../gen/google/longrunning/operations_pb.js";

/**
 * `json` with every `Any` object starting with "@type", as Google's encoders write it (the codec puts it
 * last): `{"@type": "type.googleapis.com/…", …}`. Rebuilds only the objects that need it, and changes nothing
 * else. Linear in the size of the value; objects of a Struct holding a "@type" key are moved the same way,
 * which changes no meaning (a JSON object's keys have no order).
 */
export function typeFirst(json: JsonValue): JsonValue {
  if (json === null || typeof json !== "object") return json;
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) {
      const v = json[i]!;
      if (v !== null && typeof v === "object") json[i] = typeFirst(v);
    }
    return json;
  }
  let first: string | undefined;
  for (const k in json) {
    first ??= k;
    const v = json[k]!;
    if (v !== null && typeof v === "object") {
      const w = typeFirst(v);
      if (w !== v) json[k] = w;
    }
  }
  if (first === "@type" || !Object.hasOwn(json, "@type")) return json;
  return { "@type": json["@type"]!, ...json };
}

/** proto3 JSON of an operation (lowerCamelCase, Anys resolved through `registry`), each Any's "@type" first. */
export function operationJson(op: Operation, registry: Registry): JsonValue {
  return typeFirst(toJson(OperationSchema, op, { registry }));
}
