import { createRegistry, type DescFile, type DescMessage, type Registry } from "@bufbuild/protobuf";
import { file_google_protobuf_empty, file_google_protobuf_struct, file_google_protobuf_wrappers, file_google_protobuf_duration, file_google_protobuf_timestamp, file_google_protobuf_field_mask } from "@bufbuild/protobuf/wkt";
import { file_google_longrunning_operations } from "../gen/google/longrunning/operations_pb.js";
import { file_google_rpc_error_details } from "../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../gen/google/rpc/status_pb.js";
import { file_google_cloud_common_operation_metadata } from "../gen/google/cloud/common/operation_metadata_pb.js";

/** The files every longrun server knows: the Operations service, google.rpc details and the well-known types. */
export const BUILTIN_FILES: readonly DescFile[] = [
  file_google_longrunning_operations,
  file_google_rpc_status,
  file_google_rpc_error_details,
  file_google_cloud_common_operation_metadata,
  file_google_protobuf_empty,
  file_google_protobuf_struct,
  file_google_protobuf_wrappers,
  file_google_protobuf_duration,
  file_google_protobuf_timestamp,
  file_google_protobuf_field_mask,
];

/**
 * The type registry used to resolve `Any` (JSON `@type`) and operation_info type names: the built-in files
 * plus the files of every served method.
 */
export function buildRegistry(files: readonly DescFile[]): Registry {
  return createRegistry(...withDependencies([...BUILTIN_FILES, ...files]));
}

/**
 * The files and, transitively, every file they import; each once, every file after the files it imports
 * (the order of a FileDescriptorSet, which descriptor registries expect).
 */
export function withDependencies(files: readonly DescFile[]): DescFile[] {
  const all = new Map<string, DescFile>();
  const seen = new Set<string>();
  const visit = (file: DescFile): void => {
    if (seen.has(file.proto.name)) return;
    seen.add(file.proto.name);
    file.dependencies.forEach(visit);
    all.set(file.proto.name, file);
  };
  files.forEach(visit);
  return [...all.values()];
}

/**
 * Resolves a message name from `operation_info` the way protoc does for a relative name: first in the
 * package of the method's file, then as a fully-qualified name.
 */
export function resolveMessage(registry: Registry, name: string, pkg: string): DescMessage | undefined {
  const trimmed = name.startsWith(".") ? name.slice(1) : name;
  if (pkg !== "" && !name.startsWith(".")) {
    const local = registry.getMessage(`${pkg}.${trimmed}`);
    if (local) return local;
  }
  return registry.getMessage(trimmed);
}

export const TYPE_URL_PREFIX = "type.googleapis.com/";

export function typeUrlOf(schema: DescMessage): string {
  return TYPE_URL_PREFIX + schema.typeName;
}
