/**
 * What the store keeps of an operation, as records (the Store contract, store.ts, re-exports these).
 */

/** An `Any` as stored: the type URL and the serialized message. */
export interface StoredAny {
  typeUrl: string;
  value: Uint8Array;
  /**
   * The message as proto3 JSON with proto field names and default values emitted
   * (`{"progress_percent": 0, ...}`), for stores to filter on. Given for metadata. Stores keep it (since
   * store migration 2) for `ListQuery.filter` but do not return it: records read back never carry it.
   * Metadata written without it (or before migration 2) has no filterable fields: `metadata.*`
   * restrictions do not match it.
   */
  json?: string | undefined;
}

/** The error an operation ended with: code and message are kept apart so stores can filter on them. */
export interface StoredError {
  code: number;
  /** Read back as "" for errors stored before store migration 2 (which kept only code and bytes). */
  message: string;
  /** The serialized google.rpc.Status (code, message, details). */
  status: Uint8Array;
}

/** Where an operation is in its life. `done` is final: a done operation never changes again. */
export type OperationState = "queued" | "running" | "done";

export interface OperationRecord {
  /** Opaque, unique id: the last segment of the name. The primary key. */
  id: string;
  /** The full resource name, e.g. `operations/{id}`. */
  name: string;
  /** The parent the name is scoped to ("" for `operations/{id}`); ListOperations filters on it. */
  parent: string;
  /** Full name of the method that started it, e.g. `longrun.demo.v1.Demo.Sleep`. */
  method: string;
  /** The idempotency key (AIP-155) given at start, if any; unique per method. */
  requestId: string | undefined;
  /** The serialized request message the handler runs with. */
  request: Uint8Array;
  /**
   * Who started the operation: the authenticated caller's principal (`user:alice`,
   * `serviceAccount:ci@example`), undefined when the server does not authenticate (and for operations
   * stored before store migration 4). Set at create, never changed.
   */
  principal: string | undefined;
  /**
   * The resource the operation belongs to for authorization, when its name does not say so: the one its
   * start was authorized on (`projects/a` for an operation named `operations/{id}`). Undefined when the
   * start named none (and for operations stored before store migration 5). Set at create, never changed;
   * `ListQuery.resource` lists by it.
   */
  resource: string | undefined;
  /**
   * The W3C trace context of the request that started it (a JSON object of `traceparent` and, if any,
   * `tracestate`), when tracing was on at the start: the execution's span joins that trace
   * (docs/observability.md, "Traces"). Absent otherwise (and for operations stored before store
   * migration 8). Set at create, never changed; read only with the whole record (get, claim), not by lists.
   */
  traceContext?: string | undefined;
  metadata: StoredAny | undefined;
  state: OperationState;
  /** Exactly one of `error` / `response` is set when state is "done", and neither before. */
  error: StoredError | undefined;
  response: StoredAny | undefined;
  /** CancelOperation was called while the operation was not done. */
  cancelRequested: boolean;
  /**
   * The last control command requested while the operation was not done (a custom method on operations
   * that the service declares, e.g. "pause" then "resume"); undefined if none. The handler sees it and
   * each change of it; the command's meaning is the service's.
   */
  control: string | undefined;
  /**
   * The fencing token: 0 while never claimed, incremented by every claim. Progress and finish writes
   * name the attempt they belong to and are refused for any other.
   */
  attempt: number;
  /** The worker holding the lease while running, and until when. */
  leaseOwner: string | undefined;
  leaseExpireTime: number | undefined;
  /** Not claimable before this time (a delayed start, a retry's backoff). */
  runAfter: number;
  /**
   * The last attempt that failed and was put back to be retried (Store.retryLater; docs/scheduling.md),
   * with its error; kept until another does, and after the operation ends. Absent when none did. Whole
   * records only (get, claim), not lists; absent for operations stored before store migration 10. An
   * attempt after it (`attempt` = its attempt + 1) is a retry, not the resumption of an interrupted one.
   */
  lastFailure?: { attempt: number; error: StoredError } | undefined;
  /**
   * The time by which the operation must be done: past it, it ends DEADLINE_EXCEEDED, whether it runs or
   * waits (docs/scheduling.md). Absent when it has none. Set at create, never changed; whole records only.
   */
  deadline?: number | undefined;
  /**
   * The name of the operation this one runs the request of again (`longrun retry`, RetryOperation): the
   * link from a retry to what it retries. Absent when it is not one (and for operations stored before
   * store migration 11). Set at create, never changed; whole records only.
   */
  retryOf?: string | undefined;
  /**
   * Its priority (docs/scheduling.md): claimed as if due one second earlier per point, so higher first and
   * none starved. Absent when 0, the default. Set at create, never changed; whole records only.
   */
  priority?: number | undefined;
  /**
   * How many of its attempts were interrupted (a worker lost or stopped: the claim that took it up again
   * did not follow a failure put back by retryLater). Absent when none; whole records only.
   */
  interruptions?: number | undefined;
  /** Its place in its fair queue (NewOperation.fair), when it was fair-queued; whole records only. */
  fairTime?: number | undefined;
  createTime: number;
  /**
   * When the operation first ran: the time of the claim that first moved it to running. Undefined while
   * it never ran (and for operations claimed before store migration 9). Set once, never changed.
   */
  startTime: number | undefined;
  /**
   * When the current attempt (`attempt`) started: the time of the latest claim. Undefined while never
   * claimed (and for operations claimed last before store migration 9); kept by release and finish.
   */
  attemptTime: number | undefined;
  updateTime: number;
  endTime: number | undefined;
  /** A done operation is forgotten after this time (retention); absent while not done. */
  expireTime: number | undefined;
}

/** What a start gives the store; `runAfter` is normally `now`. The rest is set by the store. */
export type NewOperation = Pick<OperationRecord, "id" | "name" | "parent" | "method" | "requestId" | "request" | "metadata" | "runAfter"> & {
  /**
   * Who starts it (OperationRecord.principal); absent when the server does not authenticate. A string
   * of at most 1024 characters, with no NUL and no lone surrogate: a create giving another is refused
   * with a TypeError, none of its batch inserted.
   */
  principal?: string | undefined;
  /** The resource it belongs to (OperationRecord.resource), if any; checked as `principal` is. */
  resource?: string | undefined;
  /** The start's trace context (OperationRecord.traceContext), if any; opaque text, checked as `principal` is. */
  traceContext?: string | undefined;
  /** The time by which it must be done (OperationRecord.deadline), if any. */
  deadline?: number | undefined;
  /** The operation this one runs again (OperationRecord.retryOf), if any; checked as `principal` is. */
  retryOf?: string | undefined;
  /** Its priority (OperationRecord.priority), an integer; 0 when absent. */
  priority?: number | undefined;
  /**
   * Fair queuing (docs/scheduling.md): the operation takes its place in the queue of (method, `key`) —
   * `quantumMs` after the place the key's last operation took, or its runAfter if later — and claims take
   * it in that order (OperationRecord.fairTime). With `limitsRate`, it is not due before that place
   * either: the key starts at most one operation per quantum.
   */
  fair?: { key: string; quantumMs: number; limitsRate: boolean } | undefined;
  /**
   * The key its method's concurrency limit per key counts it under (ClaimLimit.perKey; docs/scheduling.md),
   * if any; checked as `principal` is. Operations without one are limited only by their method's `limit`.
   */
  groupKey?: string | undefined;
};

/**
 * An operation as the Operations service serves it: a google.longrunning.Operation's fields, and its end
 * time (not served: WaitOperation's wake latency is measured from it).
 */
export type OperationView = Pick<OperationRecord, "id" | "name" | "state" | "metadata" | "error" | "response" | "principal" | "resource" | "endTime">;

/**
 * An operation as a list returns it: the whole record but its request, which nothing that lists reads
 * and which may be the largest column (a page of 1000 would carry 1000 requests).
 */
export type ListedOperation = Omit<OperationRecord, "request">;

/**
 * The bytes of an operation a list's byte budget (ListQuery.maxBytes) counts: its name, metadata,
 * response and error as stored. Never more than what they take encoded in an Operation, so a page filled
 * to a budget by their encoded size never needs a record the store left out (see ListQuery.maxBytes).
 */
export function storedBytes(op: Pick<OperationRecord, "name" | "metadata" | "response" | "error">): number {
  return Buffer.byteLength(op.name) + (op.metadata?.value.byteLength ?? 0) + (op.response?.value.byteLength ?? 0) + (op.error?.status.byteLength ?? 0);
}
