/**
 * Transfer jobs: what CreateTransferJob accepts (checked here, INVALID_ARGUMENT naming the field), and where
 * jobs are kept — one JSON file per job (`{data dir}/transferJobs/{id}.json`, proto3 JSON).
 *
 * Why files rather than a table: a job is a document read whole and written rarely, the files can be read
 * with `cat`, and they need no schema and no second database beside the operations store (which may be
 * PostgreSQL). RunTransferJob's `validate` hook is synchronous, so the job is looked up with a synchronous
 * read there (`getSync`); a SQLite table through better-sqlite3 would have been synchronous too.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { randomInt } from "node:crypto";
import { isAbsolute, join, relative, resolve } from "node:path";
import { clone, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, invalidArgument, RpcError } from "../../src/index.js";
import {
  NotificationConfig_EventType as EventType,
  NotificationConfig_PayloadFormat as PayloadFormat,
  type NotificationConfig,
  TransferJob_Status as JobStatus,
  TransferJobSchema,
  TransferOptions_OverwriteWhen as OverwriteWhen,
  type TransferJob,
} from "./gen/google/storagetransfer/v1/transfer_types_pb.js";

/**
 * `transferJobs/{id}`. Google allows `[A-Za-z0-9-._~]` ending in a letter or digit, up to 128 characters;
 * here `.` and `~` are refused and the id is at most 86 characters, because operation ids are
 * `transferJobs-{id}-{22 random characters}` and must stay within `[A-Za-z0-9_-]{1,128}` (longrun caps the
 * prefix at 100).
 */
const JOB_NAME = /^transferJobs\/([A-Za-z0-9-]{0,85}[A-Za-z0-9])$/;
/** Google Cloud project ids: 6–30 lowercase letters, digits and hyphens, starting with a letter. */
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const MAX_DESCRIPTION_BYTES = 1024;

/** The id part of a job name (`transferJobs/{id}`), or undefined if the name is not one this service accepts. */
export function jobId(name: string): string | undefined {
  return JOB_NAME.exec(name)?.[1];
}

/** The prefix of the ids of a job's operations: `transferOperations/transferJobs-{id}-{random}`, as Google names them. */
export function operationIdPrefix(jobName: string): string {
  return `transferJobs-${jobId(jobName) ?? ""}-`;
}

export function checkProjectId(projectId: string, field = "project_id"): void {
  if (projectId === "") throw invalidArgument(field, "is required");
  if (!PROJECT_ID.test(projectId)) {
    throw invalidArgument(field, `"${projectId.slice(0, 100)}" is not a project id (6-30 lowercase letters, digits and hyphens, starting with a letter)`);
  }
}

export function checkJobName(jobName: string, field = "job_name"): void {
  if (jobName === "") throw invalidArgument(field, "is required");
  if (!JOB_NAME.test(jobName)) {
    throw invalidArgument(
      field,
      `"${jobName.slice(0, 140)}" is not a job name of the form transferJobs/{id}: letters, digits and hyphens, ending in a letter or digit, at most 86 characters after "transferJobs/"`,
    );
  }
}

export function jobNotFound(jobName: string): RpcError {
  return new RpcError(Code.NOT_FOUND, `Transfer job "${jobName}" not found.`, { metadata: { job_name: jobName } });
}

/**
 * Checks a job given to CreateTransferJob and returns it as stored: a generated name when none is given,
 * creation and modification times set, output-only and latest-operation fields cleared. Refuses (rather
 * than ignores) what would change what the job does and this example cannot do: sources and sinks other
 * than POSIX directories, schedules, event streams, notifications, object conditions, manifests, deletions.
 */
export function newJob(given: TransferJob | undefined): TransferJob {
  if (given === undefined) throw invalidArgument("transfer_job", "is required");
  const at = "transfer_job";
  const job = clone(TransferJobSchema, given);
  if (job.name === "") job.name = `transferJobs/OPI${randomDigits(19)}`; // POSIX jobs are named transferJobs/OPI… (transfer_types.proto)
  else checkJobName(job.name, `${at}.name`);
  checkProjectId(job.projectId, `${at}.project_id`);
  if (Buffer.byteLength(job.description, "utf8") > MAX_DESCRIPTION_BYTES) {
    throw invalidArgument(`${at}.description`, `at most ${MAX_DESCRIPTION_BYTES} bytes`);
  }
  if (job.status === JobStatus.STATUS_UNSPECIFIED) throw invalidArgument(`${at}.status`, "is required (ENABLED or DISABLED)");
  if (job.status === JobStatus.DELETED) throw invalidArgument(`${at}.status`, "a job cannot be created DELETED");
  if (job.schedule) throw invalidArgument(`${at}.schedule`, "schedules are not supported here: run the job with RunTransferJob");
  if (job.eventStream) throw invalidArgument(`${at}.event_stream`, "event-driven transfers are not supported here");
  if (job.replicationSpec) throw invalidArgument(`${at}.replication_spec`, "replication is not supported here");
  if (job.notificationConfig) checkNotificationConfig(job.notificationConfig, `${at}.notification_config`);
  checkSpec(job, `${at}.transfer_spec`);
  job.creationTime = timestampNow();
  job.lastModificationTime = job.creationTime;
  job.deletionTime = undefined;
  job.latestOperationName = "";
  return job;
}

/** `projects/{project}/topics/{topic}`, as Pub/Sub names topics. */
const TOPIC = /^projects\/[a-z][-a-z0-9]{4,28}[a-z0-9]\/topics\/[A-Za-z][-A-Za-z0-9._~%+]{2,254}$/;

/**
 * A job's notificationConfig as Google checks it: a Pub/Sub topic and a payload format are required, the
 * event types known. longrun delivers the job's operations' events to the server's --notify destinations,
 * narrowed to these event types and this payload format (profile.ts, notificationNaming.choose); the topic is
 * kept, not published to.
 */
function checkNotificationConfig(config: NotificationConfig, at: string): void {
  if (!TOPIC.test(config.pubsubTopic)) throw invalidArgument(`${at}.pubsub_topic`, "must be a Pub/Sub topic, projects/{project}/topics/{topic}");
  if (config.payloadFormat === PayloadFormat.PAYLOAD_FORMAT_UNSPECIFIED) throw invalidArgument(`${at}.payload_format`, "is required (JSON or NONE)");
  for (const type of config.eventTypes) {
    if (!(type in EventType) || type === EventType.EVENT_TYPE_UNSPECIFIED) throw invalidArgument(`${at}.event_types`, `${type} is not an event type`);
  }
}

function checkSpec(job: TransferJob, at: string): void {
  const spec = job.transferSpec;
  if (spec === undefined) throw invalidArgument(at, "is required");
  if (spec.dataSource.case !== "posixDataSource") {
    throw invalidArgument(`${at}.posix_data_source`, "is required: this service copies between POSIX directories only");
  }
  if (spec.dataSink.case !== "posixDataSink") {
    throw invalidArgument(`${at}.posix_data_sink`, "is required: this service copies between POSIX directories only");
  }
  const source = spec.dataSource.value.rootDirectory;
  const sink = spec.dataSink.value.rootDirectory;
  for (const [field, dir] of [
    ["posix_data_source", source],
    ["posix_data_sink", sink],
  ] as const) {
    if (dir === "") throw invalidArgument(`${at}.${field}.root_directory`, "is required");
    if (!isAbsolute(dir)) throw invalidArgument(`${at}.${field}.root_directory`, `must be an absolute path, got "${dir.slice(0, 200)}"`);
    if (dir.includes("\0")) throw invalidArgument(`${at}.${field}.root_directory`, "must not contain NUL");
  }
  const inside = relative(resolve(source), resolve(sink));
  if (inside === "" || (!inside.startsWith("..") && !isAbsolute(inside))) {
    throw invalidArgument(`${at}.posix_data_sink.root_directory`, "must not be the source directory or inside it");
  }
  if (spec.intermediateDataLocation.case !== undefined) {
    throw invalidArgument(`${at}.gcs_intermediate_data_location`, "not supported here: files are copied directly");
  }
  if (spec.objectConditions) throw invalidArgument(`${at}.object_conditions`, "not supported here");
  if (spec.transferManifest) throw invalidArgument(`${at}.transfer_manifest`, "not supported here");
  const options = spec.transferOptions;
  if (options?.deleteObjectsUniqueInSink) throw invalidArgument(`${at}.transfer_options.delete_objects_unique_in_sink`, "not supported here");
  if (options?.deleteObjectsFromSourceAfterTransfer) {
    throw invalidArgument(`${at}.transfer_options.delete_objects_from_source_after_transfer`, "not supported here");
  }
  if (options?.overwriteObjectsAlreadyExistingInSink && options.overwriteWhen === OverwriteWhen.NEVER) {
    throw invalidArgument(`${at}.transfer_options.overwrite_when`, "NEVER contradicts overwrite_objects_already_existing_in_sink");
  }
}

function randomDigits(n: number): string {
  return Array.from({ length: n }, () => randomInt(10)).join("");
}

/** Jobs as files: `{dir}/transferJobs/{id}.json`. */
export class JobFiles {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "transferJobs");
  }

  private path(jobName: string): string {
    const id = jobId(jobName);
    if (id === undefined) throw new Error(`not a job name: ${jobName}`); // callers check names first
    return join(this.dir, `${id}.json`);
  }

  /** Stores a new job; ALREADY_EXISTS if one has its name. Atomic: a job file is never seen half written. */
  create(job: TransferJob): void {
    mkdirSync(this.dir, { recursive: true });
    const path = this.path(job.name);
    const tmp = `${path}.${process.pid}.${randomDigits(8)}.tmp`;
    writeFileSync(tmp, toJsonString(TransferJobSchema, job, { prettySpaces: 2 }));
    try {
      linkSync(tmp, path); // fails with EEXIST rather than replacing: create-if-absent in one step
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new RpcError(Code.ALREADY_EXISTS, `Transfer job "${job.name}" already exists.`, { metadata: { job_name: job.name } });
      }
      throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /**
   * The job, if it exists and belongs to `projectId`; NOT_FOUND otherwise (another project's job is not
   * revealed). Synchronous, for RunTransferJob's synchronous `validate`.
   */
  getSync(jobName: string, projectId: string): TransferJob {
    checkJobName(jobName);
    checkProjectId(projectId);
    let text: string;
    try {
      text = readFileSync(this.path(jobName), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw jobNotFound(jobName);
      throw err;
    }
    const job = fromJsonString(TransferJobSchema, text);
    if (job.projectId !== projectId) throw jobNotFound(jobName);
    return job;
  }

  /** Records the job's most recent operation (replacing the file atomically; the last writer wins). */
  setLatestOperation(jobName: string, projectId: string, operationName: string): void {
    const job = this.getSync(jobName, projectId);
    job.latestOperationName = operationName;
    const path = this.path(jobName);
    const tmp = `${path}.${process.pid}.${randomDigits(8)}.tmp`;
    writeFileSync(tmp, toJsonString(TransferJobSchema, job, { prettySpaces: 2 }));
    renameSync(tmp, path);
  }
}
