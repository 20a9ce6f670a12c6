import { fromBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Operation } from "../gen/google/longrunning/operations_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import type { OperationView, StoredAny } from "../store/store.js";

/**
 * The wire form of a stored operation. Metadata and response stay serialized: no re-encoding on reads.
 * Written as the plain objects `create` makes of these proto3 messages, for a tenth of its cost (every
 * GetOperation makes one).
 */
export function toOperation(record: Pick<OperationView, "name" | "state" | "metadata" | "error" | "response">): Operation {
  const done = record.state === "done";
  let result: Operation["result"] = { case: undefined };
  if (done) {
    if (record.error) result = { case: "error", value: fromBinary(StatusSchema, record.error.status) };
    else if (record.response) result = { case: "response", value: toAny(record.response) };
  }
  const { name, metadata } = record;
  return metadata
    ? { $typeName: "google.longrunning.Operation", name, metadata: toAny(metadata), done, result }
    : { $typeName: "google.longrunning.Operation", name, done, result };
}

function toAny(stored: StoredAny): Any {
  return { $typeName: "google.protobuf.Any", typeUrl: stored.typeUrl, value: stored.value };
}

/**
 * Tags, lengths and fixed fields an operation adds to its parts' bytes on the wire, at most: the operation's
 * own tag and length in a ListOperationsResponse, the name's, metadata's and result's (and their Anys'
 * type URL and value), `done`.
 */
const OPERATION_OVERHEAD_BYTES = 48;

/**
 * An upper bound of the operation's encoded size (binary protobuf, as an element of
 * ListOperationsResponse.operations), from the lengths of the stored bytes: nothing is encoded again.
 */
export function encodedSizeBound(record: Omit<OperationView, "id">): number {
  let size = OPERATION_OVERHEAD_BYTES + Buffer.byteLength(record.name);
  if (record.metadata) size += Buffer.byteLength(record.metadata.typeUrl) + record.metadata.value.byteLength;
  if (record.state === "done") {
    if (record.error) size += record.error.status.byteLength;
    else if (record.response) size += Buffer.byteLength(record.response.typeUrl) + record.response.value.byteLength;
  }
  return size;
}
