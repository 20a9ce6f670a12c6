import { fromBinary, type Message } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { Reason, RpcError, unimplemented } from "../core/errors.js";
import type { OperationNames } from "../core/names.js";
import type { RetryOperationRequest } from "../gen/longrun/admin/v1/activity_pb.js";
import type { MethodDefinition } from "../runtime/methods.js";
import type { OperationRecord, Store } from "../store/store.js";
import { recordNamed } from "./details.js";

/** A failed operation, ready to be run again: its record, its method, and its request to start anew. */
export interface RetryTarget {
  record: OperationRecord;
  definition: MethodDefinition;
  /** The stored request, decoded, its request id cleared (a new start, not a repeat of the old one). */
  request: Message;
}

/**
 * What RetryOperation would run again for `name`: NOT_FOUND as GetOperation answers it (an id under
 * another parent's name is an operation that does not exist); FAILED_PRECONDITION (OPERATION_NOT_FAILED)
 * unless it is done with an error — a cancelled one included, as a failure the caller may want undone;
 * UNIMPLEMENTED when its method is not served here (nothing could run it).
 */
export async function retryTarget(
  store: Store,
  names: OperationNames,
  methods: ReadonlyMap<string, MethodDefinition>,
  now: number,
  request: RetryOperationRequest,
): Promise<RetryTarget> {
  const record = await recordNamed(store, names, request.name, now);
  if (record.state !== "done" || record.error === undefined) {
    const state = record.state === "done" ? "succeeded" : record.state;
    throw new RpcError(Code.FAILED_PRECONDITION, `Operation "${record.name}" is ${state}; only an operation that failed can be retried.`, {
      reason: Reason.OPERATION_NOT_FAILED,
      metadata: { name: record.name, state },
    });
  }
  const definition = methods.get(record.method);
  if (definition === undefined) throw unimplemented(record.method);
  let decoded: Message;
  try {
    decoded = fromBinary(definition.request, record.request);
  } catch {
    // Stored by a version whose request type no longer matches this one: nothing honest to run.
    throw new RpcError(Code.FAILED_PRECONDITION, `The request of operation "${record.name}" no longer decodes as ${definition.request.typeName}; start it anew.`, {
      reason: Reason.STORED_REQUEST_UNREADABLE,
      metadata: { name: record.name },
    });
  }
  return { record, definition, request: withoutRequestId(definition, decoded) };
}

/**
 * The (freshly decoded) request with its request id (AIP-155) cleared: kept, the start's idempotency check would hand back
 * the old operation instead of starting a new one.
 */
function withoutRequestId(definition: MethodDefinition, request: Message): Message {
  const field = definition.requestIdField;
  if (field === undefined) return request;
  (request as unknown as Record<string, unknown>)[field.localName] = "";
  return request;
}
