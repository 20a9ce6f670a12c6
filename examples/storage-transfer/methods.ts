/**
 * google.storagetransfer.v1.StorageTransferService, from the official proto (vendored in this folder's
 * proto/google/storagetransfer/v1): CreateTransferJob and GetTransferJob (plain unary RPCs, served as extra
 * endpoints), RunTransferJob (the long-running method: it copies a POSIX directory to another on this
 * machine), PauseTransferOperation and ResumeTransferOperation (custom methods on operations). `server.ts`
 * serves them configured as storagetransfer.googleapis.com is.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { clone, create, getOption, hasOption, type DescMessage, type DescMethodUnary, type MessageShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, defineMethod, RpcError, type Endpoint, type EndpointAccess, type MethodDeclaration, type OperationContext } from "../../src/index.js";
import { http } from "../../src/gen/google/api/annotations_pb.js";
import { StorageTransferService } from "./gen/google/storagetransfer/v1/transfer_pb.js";
import {
  ErrorLogEntrySchema,
  ErrorSummarySchema,
  TransferCountersSchema,
  TransferOperation_Status as Status,
  TransferOperationSchema,
  TransferOptions_OverwriteWhen as OverwriteWhen,
  type TransferCounters,
  type TransferOperation,
  type TransferSpec,
} from "./gen/google/storagetransfer/v1/transfer_types_pb.js";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { codeOfFsError, copyFile, listSource, sinkFile, upToDate, type SourceFile } from "./copy.js";
import { JobFiles, newJob, operationIdPrefix } from "./jobs.js";

export interface StorageTransferExampleOptions {
  /**
   * Test hook: wait this long before copying each file (the wait is cancellable), so that a test can pause
   * or cancel a transfer mid-copy without huge files. @default 0
   */
  copyDelayMs?: number;
}

/** At most this many sample entries per error code (transfer_types.proto: ErrorSummary.error_log_entries). */
const MAX_ERROR_SAMPLES = 5;

type Context = OperationContext<typeof TransferOperationSchema>;

/**
 * RunTransferJob: copies the job's `posix_data_source.root_directory` to its `posix_data_sink.root_directory`.
 *
 * - Start: the job must exist in the request's project (NOT_FOUND otherwise, as an RPC error: the
 *   operation is not created). Operations are named `transferOperations/transferJobs-{job id}-{random}`.
 * - Metadata (TransferOperation): name, project_id, transfer_job_name, transfer_spec and start_time at once;
 *   the counters after listing the source; objects/bytes_copied_to_sink as files complete; status
 *   IN_PROGRESS, PAUSED, SUCCESS, FAILED (some files failed; error_breakdowns say which), ABORTED
 *   (cancelled). end_time is set by longrun when the operation ends.
 * - Files whose sink copy is up to date (same size and modification time; `overwrite_when` NEVER: any sink
 *   file) are not copied: objects_from_source_skipped_by_sync. The found counters exclude them, as the
 *   real service's do. Copies keep the source's modification time.
 * - Pause (`ctx.control`): seen between files and between the chunks of a file; the handler writes PAUSED
 *   and waits; resume writes IN_PROGRESS and carries on where it stopped.
 * - Cancel: seen at the same points and during the test hook's delay; the partial file is removed, status
 *   ABORTED is written with the counters of what was done, and the operation ends CANCELLED.
 * - A retried attempt (after a crash, a restart or a lost lease) lists again and copies only the files whose
 *   sink copy is not up to date, whatever `overwrite_when` says: files the earlier attempt copied are not
 *   copied again. The found and skipped counters stay those of the first listing; the copied counters go
 *   on from what the sink shows was copied (see below); failure counts start again, since every file not
 *   yet copied is tried again.
 */
export function runTransferJob(jobs: JobFiles, options: StorageTransferExampleOptions = {}): MethodDeclaration {
  return defineMethod({
    method: StorageTransferService.method.runTransferJob,
    response: EmptySchema,
    metadata: TransferOperationSchema,
    validate(request) {
      jobs.getSync(request.jobName, request.projectId); // NOT_FOUND (or INVALID_ARGUMENT for a malformed name)
    },
    operationIdPrefix: (request) => operationIdPrefix(request.jobName),
    // A job belongs to its project: running it needs storagetransfer.jobs.run there, as in Google's IAM.
    permissionResource: (request) => `projects/${request.projectId}`,
    // What a queued operation already tells: the list filter needs project_id, and finds jobs by name.
    // The job's notificationConfig goes with it: which of its events are announced, and how (profile.ts).
    initialMetadata: (request) => ({
      projectId: request.projectId,
      transferJobName: request.jobName,
      status: Status.QUEUED,
      notificationConfig: jobs.getSync(request.jobName, request.projectId).notificationConfig,
    }),
    async handler(request, ctx) {
      const transfer = new Transfer(ctx, options);
      try {
        await transfer.run(jobs, request.jobName, request.projectId);
      } catch (err) {
        await transfer.stopped();
        throw err;
      }
      return {};
    },
  });
}

/** One attempt of one transfer operation: its counters, and the points where it pauses or stops. */
class Transfer {
  private readonly counters: TransferCounters;
  private readonly errors = new Map<Code, { count: bigint; samples: { url: string; message: string }[] }>();
  /** Whether an earlier attempt listed the source already (its counters are kept and added to). */
  private readonly retried: boolean;

  constructor(
    private readonly ctx: Context,
    private readonly options: StorageTransferExampleOptions,
  ) {
    const previous = ctx.metadata;
    this.retried = ctx.attempt > 1 && previous.counters !== undefined;
    this.counters = this.retried ? clone(TransferCountersSchema, previous.counters!) : create(TransferCountersSchema);
    if (this.retried) {
      this.counters.objectsFromSourceFailed = 0n;
      this.counters.bytesFromSourceFailed = 0n;
    }
  }

  async run(jobs: JobFiles, jobName: string, projectId: string): Promise<void> {
    const { ctx } = this;
    // The spec as the operation started with it (a retried attempt keeps it, whatever became of the job).
    const spec: TransferSpec = (this.retried && ctx.metadata.transferSpec) || jobs.getSync(jobName, projectId).transferSpec!;
    await ctx.progress({
      name: ctx.name,
      projectId,
      transferJobName: jobName,
      transferSpec: spec,
      startTime: ctx.metadata.startTime ?? timestampNow(),
      status: Status.IN_PROGRESS,
      errorBreakdowns: [],
    });
    jobs.setLatestOperation(jobName, projectId, ctx.name);
    if (spec.dataSource.case !== "posixDataSource" || spec.dataSink.case !== "posixDataSink") {
      throw new RpcError(Code.FAILED_PRECONDITION, "Only POSIX sources and sinks are supported."); // CreateTransferJob refuses others
    }
    const sourceRoot = spec.dataSource.value.rootDirectory;
    const sinkRoot = spec.dataSink.value.rootDirectory;

    const listing = await listSource(sourceRoot, ctx.signal);
    const overwrite = spec.transferOptions?.overwriteObjectsAlreadyExistingInSink
      ? OverwriteWhen.ALWAYS
      : (spec.transferOptions?.overwriteWhen ?? OverwriteWhen.DIFFERENT);
    const toCopy: SourceFile[] = [];
    const skipped = { objects: 0n, bytes: 0n };
    for (const file of listing.files) {
      ctx.signal.throwIfAborted();
      const sink = await sinkFile(sinkRoot, file.path);
      const skip = overwrite === OverwriteWhen.NEVER ? sink !== undefined : (this.retried || overwrite !== OverwriteWhen.ALWAYS) && upToDate(file, sink);
      if (skip) {
        skipped.objects++;
        skipped.bytes += file.size;
      } else {
        toCopy.push(file);
      }
    }
    const c = this.counters;
    if (this.retried) {
      // What earlier attempts copied is now up to date in the sink, beside what the first listing skipped.
      // Their last progress writes may have been lost with them (a crash, or a shutdown that gave the
      // operation back before the write), so infer the count from the sink, never below what they recorded.
      // Exact while the source is unchanged since the first listing (with overwrite_when ALWAYS, files that
      // were up to date before the first attempt, and not yet overwritten, count as copied).
      const inferredObjects = skipped.objects - c.objectsFromSourceSkippedBySync;
      const inferredBytes = skipped.bytes - c.bytesFromSourceSkippedBySync;
      if (inferredObjects > c.objectsCopiedToSink) c.objectsCopiedToSink = inferredObjects;
      if (inferredBytes > c.bytesCopiedToSink) c.bytesCopiedToSink = inferredBytes;
    } else {
      c.objectsFoundFromSource = BigInt(toCopy.length);
      c.bytesFoundFromSource = toCopy.reduce((sum, f) => sum + f.size, 0n);
      c.objectsFromSourceSkippedBySync = skipped.objects;
      c.bytesFromSourceSkippedBySync = skipped.bytes;
      c.directoriesFoundFromSource = listing.directoriesFound;
      c.directoriesSuccessfullyListedFromSource = listing.directoriesListed;
      c.directoriesFailedToListFromSource = listing.directoriesFailed;
    }
    await ctx.progress({ counters: this.snapshot() });

    for (const file of toCopy) {
      await this.checkpoint();
      if (this.options.copyDelayMs) await sleep(this.options.copyDelayMs, undefined, { signal: ctx.signal });
      await this.checkpoint();
      try {
        const bytes = await copyFile(join(sourceRoot, file.path), join(sinkRoot, file.path), file.mtimeNs, {
          signal: ctx.signal,
          beforeChunk: () => this.checkpoint(),
        });
        this.counters.objectsCopiedToSink++;
        this.counters.bytesCopiedToSink += bytes;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        this.failed(file, join(sourceRoot, file.path), err);
      }
      // Not awaited: ctx.progress coalesces, so a burst of small files is a few writes, not one per file.
      // The final write below is awaited and exact. A refused write means the operation was taken from this
      // worker, which also fires ctx.signal: the next checkpoint stops.
      this.report().catch(() => undefined);
    }

    const failures = this.counters.objectsFromSourceFailed;
    await ctx.progress({ status: failures > 0n ? Status.FAILED : Status.SUCCESS, ...this.state() });
    if (failures > 0n) {
      const [code] = [...this.errors.keys()];
      throw new RpcError(code ?? Code.UNKNOWN, `${failures} of ${toCopy.length} files could not be copied; see error_breakdowns in the metadata.`);
    }
  }

  /**
   * After the handler stopped with an error: cancelled → ABORTED with the counters of what was done; failed
   * on its own → FAILED. Stopped because the server shuts down or lost the operation → nothing: another
   * attempt carries on.
   */
  async stopped(): Promise<void> {
    const { signal } = this.ctx;
    const cancelled = signal.aborted && signal.reason instanceof RpcError && signal.reason.code === Code.CANCELLED;
    if (signal.aborted && !cancelled) return;
    await this.ctx.progress({ status: cancelled ? Status.ABORTED : Status.FAILED, ...this.state() }).catch(() => undefined);
  }

  /** Where the transfer stops if cancelled, and waits while paused. */
  private async checkpoint(): Promise<void> {
    const { ctx } = this;
    ctx.signal.throwIfAborted();
    if (ctx.control.current !== "pause") return;
    await ctx.progress({ status: Status.PAUSED, ...this.state() });
    await ctx.control.until((command) => command !== "pause");
    await ctx.progress({ status: Status.IN_PROGRESS });
  }

  private failed(file: SourceFile, path: string, err: unknown): void {
    this.counters.objectsFromSourceFailed++;
    this.counters.bytesFromSourceFailed += file.size;
    const code = codeOfFsError(err);
    const summary = this.errors.get(code) ?? { count: 0n, samples: [] };
    summary.count++;
    if (summary.samples.length < MAX_ERROR_SAMPLES) summary.samples.push({ url: pathToFileURL(path).href, message: (err as Error).message });
    this.errors.set(code, summary);
  }

  private report(): Promise<void> {
    return this.ctx.progress({ counters: this.snapshot() });
  }

  private snapshot(): TransferCounters {
    return clone(TransferCountersSchema, this.counters);
  }

  private state(): Pick<TransferOperation, "counters" | "errorBreakdowns"> {
    const errorBreakdowns = [...this.errors].map(([errorCode, { count, samples }]) =>
      create(ErrorSummarySchema, {
        errorCode,
        errorCount: count,
        errorLogEntries: samples.map((s) => create(ErrorLogEntrySchema, { url: s.url, errorDetails: [s.message] })),
      }),
    );
    return { counters: this.snapshot(), errorBreakdowns };
  }
}

/**
 * The service's other RPCs, as endpoints beside the Operations service: CreateTransferJob and
 * GetTransferJob (answered from the job files, over gRPC and at their REST bindings from the proto).
 * PauseTransferOperation / ResumeTransferOperation are the profile's `controls` (commands "pause" and
 * "resume" to the running handler).
 */
export function storageTransferEndpoints(jobs: JobFiles): Endpoint[] {
  const m = StorageTransferService.method;
  return [
    unaryEndpoint(
      m.createTransferJob,
      (request) => {
        const job = newJob(request.transferJob);
        jobs.create(job);
        return job;
      },
      // Jobs belong to a project: the permission is checked on it, as Google's IAM does.
      { permission: "storagetransfer.jobs.create", resource: (r) => `projects/${r.transferJob?.projectId ?? ""}`, mutation: true, role: "editor" },
    ),
    unaryEndpoint(m.getTransferJob, (request) => jobs.getSync(request.jobName, request.projectId), {
      permission: "storagetransfer.jobs.get",
      resource: (r) => `projects/${r.projectId}`,
      mutation: false,
      role: "viewer",
    }),
  ];
}

/** A plain unary RPC over gRPC and at its `google.api.http` binding. */
function unaryEndpoint<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  answer: (request: MessageShape<I>) => MessageShape<O>,
  access: Omit<EndpointAccess, "resource"> & { resource: (request: MessageShape<I>) => string },
): Endpoint {
  return {
    method,
    httpRules: hasOption(method, http) ? [getOption(method, http)] : [],
    grpc: true,
    invoke: async (request) => answer(request as MessageShape<I>),
    access: { ...access, resource: (request) => access.resource(request as MessageShape<I>) },
  };
}
