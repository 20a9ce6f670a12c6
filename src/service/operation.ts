import { create, fromBinary } from "@bufbuild/protobuf";
import { AnySchema, type Any } from "@bufbuild/protobuf/wkt";
import { OperationSchema, type Operation } from "../gen/google/longrunning/operations_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import type { OperationView, StoredAny } from "../store/store.js";

/** The wire form of a stored operation. Metadata and response stay serialized: no re-encoding on reads. */
export function toOperation(record: Omit<OperationView, "id">): Operation {
  const operation = create(OperationSchema, {
    name: record.name,
    metadata: record.metadata ? toAny(record.metadata) : undefined,
    done: record.state === "done",
  });
  if (record.state === "done") {
    if (record.error) operation.result = { case: "error", value: fromBinary(StatusSchema, record.error.status) };
    else if (record.response) operation.result = { case: "response", value: toAny(record.response) };
  }
  return operation;
}

function toAny(stored: StoredAny): Any {
  return create(AnySchema, { typeUrl: stored.typeUrl, value: stored.value });
}
