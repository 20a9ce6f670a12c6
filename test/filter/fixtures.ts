/**
 * A metadata type exercising every kind of field the filter schema handles, built from a descriptor in
 * code (no generated code needed): as if from this proto —
 *
 *   package longrun.filtertest.v1;
 *   enum Stage { STAGE_UNSPECIFIED = 0; QUEUED = 1; RUNNING = 2; DONE = 3; }
 *   message Item { string name = 1; int32 count = 2; Stage stage = 3; google.protobuf.Timestamp seen_time = 4; }
 *   message Inner { string label = 1; google.protobuf.Timestamp seen_time = 2; Inner child = 3; }
 *   message JobMetadata {
 *     google.protobuf.Timestamp create_time = 1;  google.protobuf.Timestamp end_time = 2;
 *     int32 progress_percent = 3;  bool cancel_requested = 4;  string target = 5;
 *     int64 bytes_done = 6;  uint32 shards = 7;  double ratio = 8;  Stage stage = 9;
 *     google.protobuf.Duration elapsed = 10;  repeated string tags = 11;  repeated Item items = 12;
 *     Inner inner = 13;  optional string note = 14;  map<string, string> labels = 15;  bytes blob = 16;
 *     google.protobuf.Int32Value retries = 17;  repeated int64 sizes = 18;
 *   }
 *   message OtherMetadata { string target = 1; int32 stage = 2; repeated string tags = 3; }
 */
import { create, createFileRegistry, type DescEnum, type DescMessage } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  type FieldDescriptorProto,
} from "@bufbuild/protobuf/wkt";

const PKG = "longrun.filtertest.v1";

type FieldInit = Partial<Omit<FieldDescriptorProto, "$typeName">> & { name: string; number: number; type: Type };

function field(name: string, number: number, type: Type, extra: Partial<FieldInit> = {}): FieldInit {
  return { name, number, type, label: Label.OPTIONAL, jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), ...extra };
}

const message = (typeName: string) => ({ type: Type.MESSAGE, typeName });
const TIMESTAMP = message(".google.protobuf.Timestamp");
const REPEATED = { label: Label.REPEATED };

const file = create(FileDescriptorProtoSchema, {
  name: "longrun/filtertest/v1/filtertest.proto",
  package: PKG,
  syntax: "proto3",
  dependency: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto", "google/protobuf/wrappers.proto"],
  enumType: [
    {
      name: "Stage",
      value: [
        { name: "STAGE_UNSPECIFIED", number: 0 },
        { name: "QUEUED", number: 1 },
        { name: "RUNNING", number: 2 },
        { name: "DONE", number: 3 },
      ],
    },
  ],
  messageType: [
    {
      name: "Item",
      field: [
        field("name", 1, Type.STRING),
        field("count", 2, Type.INT32),
        field("stage", 3, Type.ENUM, { typeName: `.${PKG}.Stage` }),
        field("seen_time", 4, Type.MESSAGE, TIMESTAMP),
      ],
    },
    {
      name: "Inner",
      field: [
        field("label", 1, Type.STRING),
        field("seen_time", 2, Type.MESSAGE, TIMESTAMP),
        field("child", 3, Type.MESSAGE, message(`.${PKG}.Inner`)),
      ],
    },
    {
      name: "JobMetadata",
      field: [
        field("create_time", 1, Type.MESSAGE, TIMESTAMP),
        field("end_time", 2, Type.MESSAGE, TIMESTAMP),
        field("progress_percent", 3, Type.INT32),
        field("cancel_requested", 4, Type.BOOL),
        field("target", 5, Type.STRING),
        field("bytes_done", 6, Type.INT64),
        field("shards", 7, Type.UINT32),
        field("ratio", 8, Type.DOUBLE),
        field("stage", 9, Type.ENUM, { typeName: `.${PKG}.Stage` }),
        field("elapsed", 10, Type.MESSAGE, message(".google.protobuf.Duration")),
        field("tags", 11, Type.STRING, REPEATED),
        field("items", 12, Type.MESSAGE, { ...message(`.${PKG}.Item`), ...REPEATED }),
        field("inner", 13, Type.MESSAGE, message(`.${PKG}.Inner`)),
        field("note", 14, Type.STRING, { proto3Optional: true, oneofIndex: 0 }),
        field("labels", 15, Type.MESSAGE, { ...message(`.${PKG}.JobMetadata.LabelsEntry`), ...REPEATED }),
        field("blob", 16, Type.BYTES),
        field("retries", 17, Type.MESSAGE, message(".google.protobuf.Int32Value")),
        field("sizes", 18, Type.INT64, REPEATED),
      ],
      oneofDecl: [{ name: "_note" }],
      nestedType: [
        {
          name: "LabelsEntry",
          field: [field("key", 1, Type.STRING), field("value", 2, Type.STRING)],
          options: { mapEntry: true },
        },
      ],
    },
    {
      name: "OtherMetadata",
      field: [field("target", 1, Type.STRING), field("stage", 2, Type.INT32), field("tags", 3, Type.STRING, REPEATED)],
    },
  ],
});

const registry = createFileRegistry(file, (name) =>
  ({
    "google/protobuf/timestamp.proto": file_google_protobuf_timestamp,
    "google/protobuf/duration.proto": file_google_protobuf_duration,
    "google/protobuf/wrappers.proto": file_google_protobuf_wrappers,
  })[name],
);

function mustMessage(name: string): DescMessage {
  const found = registry.getMessage(`${PKG}.${name}`);
  if (!found) throw new Error(`no message ${name}`);
  return found;
}

export const JobMetadataSchema = mustMessage("JobMetadata");
export const OtherMetadataSchema = mustMessage("OtherMetadata");
export const StageEnum: DescEnum = registry.getEnum(`${PKG}.Stage`)!;
export const JOB_URL = `type.googleapis.com/${PKG}.JobMetadata`;
export const OTHER_URL = `type.googleapis.com/${PKG}.OtherMetadata`;
export const fixtureRegistry = registry;
