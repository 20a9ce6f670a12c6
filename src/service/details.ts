import { create, fromBinary } from "@bufbuild/protobuf";
import { AnySchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { notFound } from "../core/errors.js";
import type { OperationNames } from "../core/names.js";
import { StatusSchema, type Status } from "../gen/google/rpc/status_pb.js";
import {
  OperationDetails_FailureSchema,
  OperationDetails_State,
  OperationDetailsSchema,
  type GetOperationDetailsRequest,
  type OperationDetails,
} from "../gen/longrun/admin/v1/details_pb.js";
import type { MethodDefinition } from "../runtime/methods.js";
import type { OperationRecord, OperationState, Store, StoredError } from "../store/store.js";

const STATES: Record<OperationState, OperationDetails_State> = {
  queued: OperationDetails_State.QUEUED,
  running: OperationDetails_State.RUNNING,
  done: OperationDetails_State.DONE,
};

/**
 * `GetOperationDetails`: what the store keeps of one operation beyond the Operation — its method, principal,
 * request, times, scheduling state (deadline, next attempt, last failed attempt) and the operation it retries — in one read of the whole record (the request is read only here, never by lists).
 * NOT_FOUND as GetOperation answers it: an id under another parent's name is an operation that does not exist.
 */
export async function operationDetails(
  store: Store,
  names: OperationNames,
  methods: ReadonlyMap<string, MethodDefinition>,
  now: number,
  request: GetOperationDetailsRequest,
): Promise<OperationDetails> {
  const record = await recordNamed(store, names, request.name, now);
  return toDetails(record, methods.get(record.method));
}

/** The whole record of the operation `name` names; NOT_FOUND, as GetOperation, for one under another parent's name too. */
export async function recordNamed(store: Store, names: OperationNames, name: string, now: number): Promise<OperationRecord> {
  const { id } = names.parse(name);
  const record = await store.get(id, now);
  if (record === undefined || record.name !== name) throw notFound(name);
  return record;
}

function toDetails(record: OperationRecord, method: MethodDefinition | undefined): OperationDetails {
  const time = (ms: number | undefined) => (ms === undefined ? undefined : timestampFromMs(ms));
  return create(OperationDetailsSchema, {
    name: record.name,
    method: record.method,
    state: STATES[record.state],
    principal: record.principal ?? "",
    createTime: time(record.createTime),
    startTime: time(record.startTime),
    attemptTime: time(record.attemptTime),
    updateTime: time(record.updateTime),
    endTime: time(record.endTime),
    attempt: record.attempt,
    cancelRequested: record.cancelRequested,
    control: record.control ?? "",
    // Only with a type this server knows: an Any it could not decode would fail the whole REST answer.
    request: method === undefined ? undefined : create(AnySchema, { typeUrl: `type.googleapis.com/${method.request.typeName}`, value: record.request }),
    deadline: time(record.deadline),
    // Held back past its creation while queued: a delayed start, or a failed attempt's backoff. A queued
    // operation due at once (or given back by a stopping worker) says nothing of when it runs.
    nextAttemptTime: record.state === "queued" && record.runAfter > record.createTime ? time(record.runAfter) : undefined,
    lastFailure:
      record.lastFailure === undefined
        ? undefined
        : create(OperationDetails_FailureSchema, { attempt: record.lastFailure.attempt, error: statusOf(record.lastFailure.error) }),
    retryOf: record.retryOf ?? "",
  });
}

/** The stored google.rpc.Status; its code and message alone should the bytes not decode (never written so). */
function statusOf(error: StoredError): Status {
  try {
    return fromBinary(StatusSchema, error.status);
  } catch {
    return create(StatusSchema, { code: error.code, message: error.message });
  }
}
