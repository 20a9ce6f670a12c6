/** The wrapper types (`google.protobuf.Int32Value`…): in proto3 JSON, the wrapped value itself. */
export const WRAPPERS: ReadonlySet<string> = new Set([
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

/** Message types whose proto3 JSON form is a string, so a query parameter can carry them. */
export const STRING_JSON_MESSAGES: ReadonlySet<string> = new Set([
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.FieldMask",
  "google.protobuf.Value",
]);

/** Well-known types whose JSON form is not an object of their fields (a Struct's keys are data). */
export const SPECIAL_JSON: ReadonlySet<string> = new Set([
  ...WRAPPERS,
  ...STRING_JSON_MESSAGES,
  "google.protobuf.Struct",
  "google.protobuf.ListValue",
  "google.protobuf.Empty",
]);
