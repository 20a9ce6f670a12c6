import { operationActivity } from "./activity.js";
import { operationDetails } from "./details.js";
import { retryTarget } from "./retry.js";
import { OperationCountsReader } from "./counts.js";
import type { GetOperationActivityRequest, OperationActivityReport, RetryOperationRequest } from "../gen/longrun/admin/v1/activity_pb.js";
import type { GetOperationDetailsRequest, OperationDetails } from "../gen/longrun/admin/v1/details_pb.js";
import type { GetOperationCountsRequest, OperationCounts } from "../gen/longrun/admin/v1/counts_pb.js";
import { create, type Message } from "@bufbuild/protobuf";
import { EmptySchema, type Duration, type Empty } from "@bufbuild/protobuf/wkt";
import {
  ListOperationsResponseSchema,
  type CancelOperationRequest,
  type DeleteOperationRequest,
  type GetOperationRequest,
  type ListOperationsRequest,
  type ListOperationsResponse,
  type Operation,
  type WaitOperationRequest,
} from "../gen/google/longrunning/operations_pb.js";
import { invalidArgument, notFound, Reason, RpcError, unimplemented } from "../core/errors.js";
import { DEFAULTS } from "../core/defaults.js";
import { nonNegativeDurationMs } from "../core/duration.js";
import type { OperationNames } from "../core/names.js";
import { storedBytes, type ListedOperation, type OperationView, type Store } from "../store/store.js";
import type { Runtime, StartOptions } from "../runtime/runtime.js";
import type { MethodDefinition } from "../runtime/methods.js";
import { onCallerGone, type CallContext } from "./endpoint.js";
import { aip160Dialect, buildFilterSchema, type FilterDialect, type FilterSchema } from "../filter/index.js";
import { encodedSizeBound, toOperation } from "./operation.js";
import { PageTokens } from "./page-token.js";
import { Waiters, type WaitMetrics, type Woken } from "./waiters.js";
import { Batcher } from "../runtime/batch.js";
import { clockOf, type Clock } from "../runtime/clock.js";
import { consoleLogger, type Logger } from "../core/logger.js";
import { OperationsWatch, type ChangesListener } from "./watch.js";

/** The Operations methods a deployment may switch off, per transport (see endpoints.ts). */
export type OptionalMethod = "ListOperations" | "CancelOperation" | "DeleteOperation" | "WaitOperation";
export const OPTIONAL_METHODS: readonly OptionalMethod[] = ["ListOperations", "CancelOperation", "DeleteOperation", "WaitOperation"];

export interface OperationsServiceOptions {
  store: Store;
  runtime: Runtime;
  /** @default DEFAULTS.defaultPageSize (50) */
  defaultPageSize?: number;
  /** Larger page sizes are coerced down to this (AIP-158). @default DEFAULTS.maxPageSize (1000) */
  maxPageSize?: number;
  /**
   * A ListOperations page stops before its operations' encoded size (binary protobuf) would pass this: it
   * may hold fewer than page_size (AIP-158), and an operation larger than this on its own is served alone.
   * @default DEFAULTS.maxListResponseBytes (2 MiB: under grpc-js's 4 MiB receive limit)
   */
  maxListResponseBytes?: number;
  /** The longest a WaitOperation call waits, whatever its timeout. @default DEFAULTS.maxWaitMs (60 s) */
  maxWaitMs?: number;
  pageTokens?: PageTokens;
  /**
   * What `ListOperationsRequest.filter` may name (docs/filtering.md). @default the fixed fields and the
   * metadata fields of the runtime's methods (`buildFilterSchema` of their metadata types)
   */
  filterSchema?: FilterSchema;
  /**
   * The language of `ListOperationsRequest.filter`: AIP-160, or another producing the same typed filter
   * (such as the Storage Transfer example's JSON object). @default aip160Dialect
   */
  filterDialect?: FilterDialect;
  /** An empty filter is INVALID_ARGUMENT "filter is required" (Storage Transfer). @default false */
  filterRequired?: boolean;
  /**
   * The wall clock (page-token expiry, what has expired) and the timers (WaitOperation's budget): a `Clock`,
   * or just a `now` function (the system's timers then). @default the system's
   */
  clock?: Clock | (() => number);
  /** Where failures the service works around are reported (a watch that could not read). @default console.error */
  log?: Logger;
  /** Where WaitOperation's wake latency is reported. @default none */
  metrics?: WaitMetrics;
  /** The waiters, when others await on them too (the library's results). @default its own */
  waiters?: Waiters;
}

/** Room kept in a List page's byte budget for its next_page_token and its tag. */
const PAGE_TOKEN_ROOM_BYTES = 1024;

/** The longest gap kept between an RPC deadline and the Wait's answer, so the answer beats the deadline. */
const MAX_DEADLINE_MARGIN_MS = 1000;
const MIN_DEADLINE_MARGIN_MS = 20;

/**
 * google.longrunning.Operations, written once for every transport: validation, names, paging, waiting.
 * Methods take and return the generated messages and throw RpcError.
 */
export class OperationsService {
  readonly names: OperationNames;
  private readonly store: Store;
  private readonly runtime: Runtime;
  private readonly defaultPageSize: number;
  private readonly maxPageSize: number;
  private readonly maxWaitMs: number;
  private readonly maxListResponseBytes: number;
  private readonly pageTokens: PageTokens;
  private readonly filterSchema: FilterSchema;
  private readonly filterDialect: FilterDialect;
  private readonly filterRequired: boolean;
  private readonly waiters: Waiters;
  private readonly watchers: OperationsWatch;
  private readonly countsReader: OperationCountsReader;
  /**
   * Reads of single operations (Get, Wait, Delete, Cancel's name check) made at the same time go to the
   * store as one getViews: 10,000 waiters woken by one batch of finishes re-read in a few statements, not
   * 10,000 round trips.
   */
  private readonly reads: Batcher<string, OperationView | undefined>;
  private readonly clock: Clock;
  private readonly now: () => number;
  private readonly metrics: WaitMetrics | undefined;

  constructor(options: OperationsServiceOptions) {
    this.store = options.store;
    this.runtime = options.runtime;
    this.names = options.runtime.names;
    this.defaultPageSize = options.defaultPageSize ?? DEFAULTS.defaultPageSize.value;
    this.maxPageSize = options.maxPageSize ?? DEFAULTS.maxPageSize.value;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULTS.maxWaitMs.value;
    this.maxListResponseBytes = options.maxListResponseBytes ?? DEFAULTS.maxListResponseBytes.value;
    this.pageTokens = options.pageTokens ?? new PageTokens();
    this.filterSchema = options.filterSchema ?? buildFilterSchema([...options.runtime.methods.values()].map((m) => m.metadata));
    this.filterDialect = options.filterDialect ?? aip160Dialect;
    this.filterRequired = options.filterRequired ?? false;
    this.waiters = options.waiters ?? new Waiters(options.store, options.runtime);
    this.metrics = options.metrics;
    const clock = clockOf(options.clock);
    this.clock = clock;
    this.now = () => clock.now();
    this.reads = new Batcher((ids) => this.store.getViews(ids, this.now()), undefined, true);
    this.countsReader = new OperationCountsReader(options.store, this.names, this.now);
    this.watchers = new OperationsWatch({ store: options.store, names: this.names, clock, log: options.log ?? consoleLogger });
  }


  getOperation(request: GetOperationRequest): Promise<Operation> {
    // Not async: one promise fewer on the way back, on the most frequent call.
    return this.find(request.name).then(toOperation);
  }

  /**
   * A page of the operations under `request.name`, filtered. With `resource` (a list the guard allowed
   * only on that resource, `ctx.scope`), only the operations recorded with it; its page tokens are bound
   * to it as to the name and filter.
   */
  async listOperations(request: ListOperationsRequest, resource?: string): Promise<ListOperationsResponse> {
    const parent = this.names.parseListName(request.name);
    if (request.pageSize < 0) {
      throw invalidArgument("page_size", `must not be negative, got ${request.pageSize}`, Reason.INVALID_PAGE_SIZE);
    }
    if (request.returnPartialSuccess) throw unimplemented("ListOperationsRequest.return_partial_success");
    if (this.filterRequired && request.filter.trim() === "") {
      throw invalidArgument("filter", "filter is required", Reason.INVALID_FILTER);
    }
    const filter = this.filterDialect(request.filter, this.filterSchema);
    const pageSize = request.pageSize === 0 ? this.defaultPageSize : Math.min(request.pageSize, this.maxPageSize);
    const now = this.now();
    const bound = { name: request.name, filter: request.filter, resource };
    const after = request.pageToken === "" ? undefined : this.pageTokens.read(request.pageToken, bound, now);
    const maxBytes = this.maxListResponseBytes - PAGE_TOKEN_ROOM_BYTES;
    const limit = pageSize + 1;
    const records = await this.store.list({ parent, resource, filter, after, limit, maxBytes, now });
    const page = this.fill(records, pageSize, maxBytes);
    const last = page[page.length - 1];
    // The store stops at the byte budget (returning two at least, when two match): records it did not
    // return may follow even when all it returned fit the page.
    const cut = records.length >= 2 && records.length < limit && sumStoredBytes(records) > maxBytes;
    const more = records.length > page.length || cut;
    const nextPageToken = more && last ? this.pageTokens.issue({ createTime: last.createTime, id: last.id }, bound, now) : "";
    return create(ListOperationsResponseSchema, { operations: page.map(toOperation), nextPageToken });
  }

  /**
   * The first records, at most `pageSize`, whose encoded size stays within the byte budget (less room for
   * the next page token); the first always, whatever its size.
   */
  private fill<T extends OperationView>(records: readonly T[], pageSize: number, maxBytes: number): T[] {
    let budget = maxBytes;
    let count = 0;
    for (; count < Math.min(pageSize, records.length); count++) {
      budget -= encodedSizeBound(records[count]!);
      if (budget < 0 && count > 0) break;
    }
    return records.slice(0, count);
  }

  async deleteOperation(request: DeleteOperationRequest): Promise<Empty> {
    const record = await this.find(request.name);
    const deleted = await this.store.delete([record.id]);
    if (deleted.length === 0) throw notFound(request.name);
    return create(EmptySchema);
  }

  async cancelOperation(request: CancelOperationRequest): Promise<Empty> {
    const { id } = this.names.parse(request.name);
    await this.runtime.cancel(id, request.name);
    return create(EmptySchema);
  }

  /** A custom method on operations: sends `command` to the operation named `name` (see Runtime.control). */
  async controlOperation(name: string, command: string): Promise<void> {
    const { id } = this.names.parse(name);
    await this.runtime.control(id, name, command);
  }

  /**
   * Returns at once if the operation is done; otherwise when it is done (woken by the store's change
   * feed) or when the wait budget runs out: min(timeout, the RPC deadline less a margin, maxWaitMs).
   * Reaching the budget is not an error: the latest state is returned. The budget is one timer (monotonic),
   * not a wall-clock time compared with now(): a step of the wall clock during the wait (NTP, an operator)
   * neither ends it early nor makes it longer.
   */
  async waitOperation(request: WaitOperationRequest, ctx: CallContext): Promise<Operation> {
    const { id } = this.names.parse(request.name);
    // No AbortController of its own, nor the call's signal: 10,000 pending waits held three EventTargets
    // each (with the handlers' own), a seventh of the heap (bench wait --profile).
    let ended = false;
    let watch: { changed: Promise<Woken>; cancel(): void } | undefined;
    const end = (): void => {
      ended = true;
      watch?.cancel();
    };
    const budget = this.waitBudget(request.timeout, ctx.deadline);
    const timer = this.clock.after(budget, end);
    const stopListening = onCallerGone(ctx, end);
    if (budget === 0) end();
    // Whether the last wake came from a change rather than the budget or the caller: only those are a
    // wake latency (an operation done at the call, or found done at a timeout, measures nothing).
    let changed = false;
    try {
      for (;;) {
        // Watch before reading, so a change between the read and the wait is not missed.
        watch = this.waiters.watch(id);
        if (ended) watch.cancel();
        try {
          const record = await this.find(request.name, id);
          if (record.state === "done" && changed) this.wokenBy(record.endTime);
          if (record.state === "done" || ended) return toOperation(record);
          const finishedHere = await watch.changed;
          changed = !ended;
          // As a read would find it, unless it expired at once (retention 0): then read, to answer NOT_FOUND.
          if (finishedHere && finishedHere.name === request.name && finishedHere.expireTime > this.now()) {
            if (changed) this.wokenBy(finishedHere.endTime);
            return toOperation(finishedHere);
          }
        } finally {
          watch.cancel();
        }
      }
    } finally {
      timer.cancel();
      stopListening();
    }
  }

  /**
   * Starts an operation of a served long-running method: the answer to the method's own RPC. `options`:
   * who starts it, and the resource it belongs to when its name does not say so.
   */
  async startOperation(method: string, request: Message, options: StartOptions = {}): Promise<Operation> {
    return toOperation(await this.runtime.startOperation(method, request, options));
  }

  /**
   * The resource the operation named `name` belongs to for authorization (the one its start was
   * authorized on), through the batched reads: undefined for a name that does not parse, an operation
   * that does not exist under that name, or one recorded without a resource. For the guard's second
   * check on names without a parent (EndpointAccess.owner).
   */
  async ownerOf(name: string): Promise<string | undefined> {
    let id: string;
    try {
      id = this.names.parse(name).id;
    } catch (err) {
      if (err instanceof RpcError) return undefined;
      throw err;
    }
    const record = await this.reads.add(id);
    return record !== undefined && record.name === name ? record.resource : undefined;
  }

  /** WaitOperation calls waiting now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Tells `listener`, in batches, the names of the operations under `request.name` that change, until the
   * returned function is called: what a ListOperations of the same name could list (with `resource`, only
   * that resource's). The request is a ListOperationsRequest naming the list and nothing else: a watch
   * has no filter and no pages.
   */
  watchOperations(request: ListOperationsRequest, listener: ChangesListener, resource?: string): () => void {
    const parent = this.names.parseListName(request.name);
    if (request.filter !== "") throw invalidArgument("filter", "a watch takes no filter", Reason.INVALID_FILTER);
    if (request.pageSize !== 0) throw invalidArgument("page_size", "a watch has no pages");
    if (request.pageToken !== "") throw invalidArgument("page_token", "a watch has no pages");
    if (request.returnPartialSuccess) throw unimplemented("ListOperationsRequest.return_partial_success");
    return this.watchers.watch({ parent, resource }, listener);
  }

  /** Operations started and finished per bucket of a window ending now (the dashboard's chart; activity.ts). */
  activity(request: GetOperationActivityRequest, resource?: string): Promise<OperationActivityReport> {
    return operationActivity(this.store, this.names, this.now(), request, resource);
  }

  /** One operation's method, principal, request and times (the dashboard's timeline; details.ts). */
  details(request: GetOperationDetailsRequest): Promise<OperationDetails> {
    return operationDetails(this.store, this.names, this.runtime.methods, this.now(), request);
  }

  /**
   * Starts a new operation running a failed one's request again (retry.ts says which may be), through the
   * method's normal start: its validation, a new name under the same parent, `principal` as the starter,
   * the old one's resource; linked to the old one (OperationRecord.retryOf).
   */
  async retryOperation(request: RetryOperationRequest, ctx: Pick<CallContext, "principal" | "traceContext">): Promise<Operation> {
    const { record, definition, request: again } = await retryTarget(this.store, this.names, this.runtime.methods, this.now(), request);
    const started = await this.runtime.startOperation(definition.fullName, again, {
      principal: ctx.principal,
      resource: record.resource,
      traceContext: ctx.traceContext?.(),
      retryOf: record.name,
    });
    return toOperation(started);
  }

  /** The start permission's resource of RetryOperation (endpoints.ts): the retried operation and its request, or undefined. */
  async retryAuthorization(request: RetryOperationRequest): Promise<{ definition: MethodDefinition; request: Message } | undefined> {
    try {
      const target = await retryTarget(this.store, this.names, this.runtime.methods, this.now(), request);
      return { definition: target.definition, request: target.request };
    } catch (err) {
      // Nothing to authorize: the call itself answers (NOT_FOUND, FAILED_PRECONDITION…).
      if (err instanceof RpcError) return undefined;
      throw err;
    }
  }

  /** The collection's operations by method and state, read at most once a second per scope (counts.ts). */
  counts(request: GetOperationCountsRequest, resource?: string): Promise<OperationCounts> {
    return this.countsReader.read(request, resource);
  }

  close(): void {
    this.watchers.close();
    this.waiters.close();
  }

  /** A Wait answered because its operation ended at `endTime` (the store's finish time, wall clock). */
  private wokenBy(endTime: number | undefined): void {
    // Clamped: the finish may have been stamped by another instance whose clock runs a little ahead.
    if (this.metrics && endTime !== undefined) this.metrics.waitWoken(Math.max(0, this.now() - endTime) / 1000);
  }

  private waitBudget(timeout: Duration | undefined, deadline: number | undefined): number {
    let budget = this.maxWaitMs;
    if (timeout) budget = Math.min(budget, nonNegativeDurationMs("timeout", timeout));
    if (deadline !== undefined) {
      const remaining = deadline - this.now();
      const margin = Math.min(MAX_DEADLINE_MARGIN_MS, Math.max(MIN_DEADLINE_MARGIN_MS, remaining * 0.1));
      budget = Math.min(budget, remaining - margin);
    }
    return Math.max(0, Math.floor(budget));
  }

  private async find(name: string, parsedId?: string): Promise<OperationView> {
    const id = parsedId ?? this.names.parse(name).id;
    const record = await this.reads.add(id);
    if (!record || record.name !== name) throw notFound(name);
    return record;
  }

}

function sumStoredBytes(records: readonly ListedOperation[]): number {
  return records.reduce((sum, record) => sum + storedBytes(record), 0);
}
