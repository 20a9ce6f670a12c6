import { equals, fromBinary, toBinary, type DescMessage, type Message } from "@bufbuild/protobuf";
import { Code } from "../core/code.js";
import { invalidArgument, Reason, RpcError, shuttingDown } from "../core/errors.js";
import { newOperationId } from "../core/ids.js";
import type { OperationNames } from "../core/names.js";
import { checkNewOperations, unstorableText } from "../store/shared/validate.js";
import type { CreateResult, NewOperation, OperationRecord, Store } from "../store/store.js";
import { Batcher } from "./batch.js";
import type { Clock } from "./clock.js";
import type { MethodDefinition } from "./methods.js";
import { groupKeyOf, startTimes } from "./scheduling.js";
import type { MethodRegistry } from "./registry.js";

/** AIP-155: a request id is a UUID, or at least short and printable. */
const MAX_REQUEST_ID_LENGTH = 64;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
/** What an id prefix may hold: the whole id must still fit OPERATION_ID_PATTERN with its 22 random characters. */
const ID_PREFIX_PATTERN = /^[A-Za-z0-9_-]{0,100}$/;

/** How an operation is started, besides its method and request. */
export interface StartOptions {
  /**
   * Who starts it: the authenticated caller's principal (`user:alice`, `serviceAccount:ci@example`), kept
   * with the operation and shown to its handler as `ctx.principal`; omitted when the server does not
   * authenticate. At most 1024 characters, without NUL or lone surrogates (the store refuses others).
   */
  principal?: string | undefined;
  /**
   * The resource the operation belongs to for authorization, when its name does not say so: the one its
   * start was authorized on (a method's `permissionResource`, such as `projects/a`). Kept with the
   * operation; the service authorizes reads of `operations/{id}` names on it, and lists by it. At most
   * 1024 characters, without NUL or lone surrogates: others refuse the start with INVALID_ARGUMENT.
   */
  resource?: string | undefined;
  /** The starting call's trace context (OperationRecord.traceContext), kept with the operation. */
  traceContext?: string | undefined;
  /**
   * The name of the operation this one runs again (RetryOperation, `longrun retry`), kept with it
   * (OperationRecord.retryOf). Checked as `principal` is.
   */
  retryOf?: string | undefined;
}

export interface StarterOptions {
  store: Store;
  clock: Clock;
  methods: MethodRegistry;
  names: OperationNames;
  /** While stopping, starts are refused with UNAVAILABLE (the client retries elsewhere). */
  isStopping: () => boolean;
}

/**
 * Creates operations: checks each request (the method's own validation, the request id, the parent, the
 * id prefix), names it, and writes it queued. Concurrent single starts share one statement (group commit).
 * A start during a store outage answers UNAVAILABLE at once: the client retries.
 */
export class Starter {
  private readonly creates: Batcher<NewOperation, CreateResult>;

  constructor(private readonly options: StarterOptions) {
    this.creates = new Batcher((items) => options.store.create(items, options.clock.now()));
  }

  /**
   * Creates an operation of `method` for `request` and returns its record (not done). With a request id
   * (AIP-155), a start repeated with the same id returns the operation the first start created.
   */
  async startOperation(fullName: string, request: Message, options: StartOptions = {}): Promise<OperationRecord> {
    const operations = this.newOperations(fullName, [request], options);
    // Checked before joining the group commit: an unstorable principal would fail every start sharing
    // its statement, not only its own.
    checkNewOperations(operations);
    return sameStart(this.options.methods.require(fullName).definition, operations[0]!, await this.creates.add(operations[0]!));
  }

  /**
   * The batch API: creates one operation per request in one store write (one statement, one commit, one
   * change notification), returning their records in the order of `requests`, all started by
   * `options.principal` and belonging to `options.resource`. All are validated first; one invalid request
   * fails the call and creates nothing.
   */
  async startOperations(fullName: string, requests: readonly Message[], options: StartOptions = {}): Promise<OperationRecord[]> {
    const operations = this.newOperations(fullName, requests, options);
    if (operations.length === 0) return [];
    const results = await this.options.store.create(operations, this.options.clock.now());
    const { definition } = this.options.methods.require(fullName);
    return results.map((r, i) => sameStart(definition, operations[i]!, r));
  }

  private newOperations(fullName: string, requests: readonly Message[], { principal, resource, traceContext, retryOf }: StartOptions): NewOperation[] {
    const { definition, codec } = this.options.methods.require(fullName);
    if (this.options.isStopping()) throw shuttingDown();
    if (resource !== undefined) checkResource(resource);
    const now = this.options.clock.now();
    const defaultMetadata = codec.initialEncoded(now);
    return requests.map((request) => {
      definition.validate?.(request);
      const given = definition.initialMetadata?.(request);
      const metadata = given === undefined ? defaultMetadata : codec.encode(codec.merge(codec.initial(now), given));
      const parent = this.parentOf(definition, request);
      const id = idPrefixOf(definition, request) + newOperationId(now);
      const { runAfter, deadline, priority } = startTimes(definition.scheduling, request, now);
      const operation: NewOperation = {
        id,
        name: this.options.names.format(parent, id),
        parent,
        method: fullName,
        requestId: requestIdOf(definition, request),
        request: toBinary(definition.request, request),
        principal,
        resource,
        metadata,
        runAfter,
      };
      if (traceContext !== undefined) operation.traceContext = traceContext;
      if (deadline !== undefined) operation.deadline = deadline;
      if (retryOf !== undefined) operation.retryOf = retryOf;
      if (priority !== 0) operation.priority = priority;
      const { fairness } = definition.scheduling;
      const groupKey = groupKeyOf(definition.scheduling, request, parent);
      if (fairness !== undefined && groupKey !== undefined) operation.fair = { key: groupKey, quantumMs: fairness.quantumMs, limitsRate: fairness.limitsRate };
      if (definition.scheduling.concurrency?.perKey !== undefined) operation.groupKey = groupKey;
      return operation;
    });
  }

  /** "" for unscoped names; else the method's parent for the request, checked against the name pattern. */
  private parentOf(definition: MethodDefinition, request: Message): string {
    const { names } = this.options;
    if (names.parentPattern === "" || !definition.parentOf) return "";
    return names.parseListName(definition.parentOf(request), "parent");
  }
}

/**
 * The operation a start created, or the one an earlier start with the same request id created — only if
 * that start was the same caller's, on the same parent and resource: a request id another caller chose
 * must not hand over its operation (AIP-155 promises idempotency to the caller retrying, not to others).
 * And only for the same request: a request id reused for a different request is a client bug that would
 * otherwise go unnoticed (the caller would wait on an operation doing something else), refused as Stripe
 * and Twilio refuse a reused idempotency key.
 */
function sameStart(definition: MethodDefinition, wanted: NewOperation, result: CreateResult): OperationRecord {
  const { record } = result;
  if (result.created) return record;
  if (record.principal !== wanted.principal || record.parent !== wanted.parent || record.resource !== wanted.resource) {
    throw new RpcError(Code.ALREADY_EXISTS, "This request_id was already used by another caller or for another parent; choose a new one (a random UUID).", {
      reason: Reason.REQUEST_ID_IN_USE,
    });
  }
  if (!sameRequest(definition.request, record.request, wanted.request)) {
    throw invalidArgument(
      definition.requestIdField?.name ?? "request_id",
      "this request_id was used before for a different request; retry with the same request, or choose a new id (a random UUID) for a new one",
      Reason.REQUEST_ID_REUSED,
    );
  }
  return record;
}

/**
 * Whether two encodings of `schema` hold the same request. Equal bytes are the usual case (one encoder, one
 * schema); else both are decoded and compared as messages, since map entries may be written in any order.
 */
function sameRequest(schema: DescMessage, stored: Uint8Array, given: Uint8Array): boolean {
  if (stored.length === given.length && stored.every((b, i) => b === given[i])) return true;
  try {
    return equals(schema, fromBinary(schema, stored), fromBinary(schema, given));
  } catch {
    return false; // the stored bytes no longer decode with this schema: not the same request
  }
}

/** A resource the store can keep, or INVALID_ARGUMENT: it comes from the request, so it is the caller's to fix. */
function checkResource(resource: string): void {
  const problem = unstorableText(resource);
  if (problem !== undefined) {
    const shown = typeof resource === "string" ? ` ${JSON.stringify(resource.slice(0, 120))}` : "";
    throw invalidArgument("resource", `the resource the operation would belong to${shown} ${problem}`);
  }
}

function idPrefixOf(definition: MethodDefinition, request: Message): string {
  const prefix = definition.operationIdPrefix?.(request) ?? "";
  if (!ID_PREFIX_PATTERN.test(prefix)) {
    throw invalidArgument("name", `cannot name an operation with prefix ${JSON.stringify(prefix.slice(0, 120))}: letters, digits, - and _ only, at most 100`);
  }
  return prefix;
}

function requestIdOf(definition: MethodDefinition, request: Message): string | undefined {
  const field = definition.requestIdField;
  if (!field) return undefined;
  const value = (request as unknown as Record<string, unknown>)[field.localName];
  if (typeof value !== "string" || value === "") return undefined;
  if (value.length > MAX_REQUEST_ID_LENGTH || !PRINTABLE_ASCII.test(value)) {
    throw invalidArgument(field.name, `must be at most ${MAX_REQUEST_ID_LENGTH} printable ASCII characters (a UUID is recommended)`);
  }
  return value;
}
