/**
 * The Storage Transfer profile (storagetransfer.googleapis.com; set beside the real service in
 * docs/profiles.md): `transferOperations/{id}`; List needs the JSON filter (projectId required), at most 256
 * a page, each list about the project it names (listScope); no Delete or Wait over REST; pause and resume are
 * custom methods on operations. A profile module:
 * `longrun serve --profile storage-transfer` loads it, and server.ts serves it with the example's handlers.
 */
import type { DeploymentProfile, FilterDialects, ListScope, NotificationNaming } from "../../src/index.js";
import { transferJsonDialect, transferListScope } from "./filter.js";
import { file_google_storagetransfer_v1_transfer } from "./gen/google/storagetransfer/v1/transfer_pb.js";

export const profile: DeploymentProfile = {
  name: "storage-transfer",
  names: { collection: "transferOperations" },
  rest: { methods: ["GetOperation", "ListOperations", "CancelOperation"] },
  controls: [
    { method: "google.storagetransfer.v1.StorageTransferService.PauseTransferOperation", command: "pause" },
    { method: "google.storagetransfer.v1.StorageTransferService.ResumeTransferOperation", command: "resume" },
  ],
  listing: { maxPageSize: 256, filterRequired: true, filterDialect: "storage-transfer-json" },
  errorDomain: "storagetransfer.googleapis.com",
  // IAM as Google names it: storagetransfer.operations.get|list|cancel|pause|resume, storagetransfer.jobs.run.
  permissions: {
    prefix: "storagetransfer",
    methods: { "google.storagetransfer.v1.StorageTransferService.RunTransferJob": "storagetransfer.jobs.run" },
  },
};

/** The proto declaring the RPCs `controls` name, so that a server given only this profile finds them. */
export const files = [file_google_storagetransfer_v1_transfer];

/** The JSON list filter the profile names (filter.ts). */
export const filterDialects: FilterDialects = { "storage-transfer-json": transferJsonDialect() };

/**
 * Transfer operations' names carry no project, but each belongs to the project its job was run in (its
 * start was authorized there: RunTransferJob's permissionResource). A list is about the project its
 * filter names: an editor or viewer of that project alone lists its operations (filter.ts).
 */
export const listScope: ListScope = transferListScope();

/**
 * Completion notifications as Storage Transfer's NotificationConfig publishes them to Pub/Sub: event types
 * TRANSFER_OPERATION_SUCCESS | FAILED | ABORTED, and the attributes projectId, transferJobName and
 * transferOperationName (read from the TransferOperation metadata the handler writes).
 */
export const notificationNaming: NotificationNaming = {
  // Storage Transfer announces no start: where one is asked for, it keeps longrun's name.
  eventTypeName: (outcome) =>
    ({ SUCCEEDED: "TRANSFER_OPERATION_SUCCESS", FAILED: "TRANSFER_OPERATION_FAILED", CANCELLED: "TRANSFER_OPERATION_ABORTED", STARTED: "OPERATION_STARTED" })[outcome],
  // A job's notificationConfig (copied into its operations' metadata) narrows its events, as in Google's.
  choose: ({ metadataJson }) => {
    const config = (metadataJson === undefined ? undefined : (JSON.parse(metadataJson) as { notification_config?: { event_types?: unknown; payload_format?: unknown } }).notification_config);
    if (config === undefined || config === null) return undefined;
    const types = Array.isArray(config.event_types) ? config.event_types.filter((t): t is string => typeof t === "string") : [];
    return {
      eventTypes: types.length > 0 ? types : undefined,
      payloadFormat: config.payload_format === "NONE" ? "NONE" : config.payload_format === "JSON" ? "JSON" : undefined,
    };
  },
  attributes: ({ name, metadataJson }) => {
    const metadata = (metadataJson === undefined ? {} : JSON.parse(metadataJson)) as { project_id?: unknown; transfer_job_name?: unknown };
    return {
      projectId: typeof metadata.project_id === "string" ? metadata.project_id : "",
      transferJobName: typeof metadata.transfer_job_name === "string" ? metadata.transfer_job_name : "",
      transferOperationName: name,
    };
  },
};
