/**
 * The Storage Transfer example server: CreateTransferJob, GetTransferJob, RunTransferJob (POSIX directory
 * to POSIX directory, on this machine), PauseTransferOperation and ResumeTransferOperation, plus
 * google.longrunning.Operations, configured as storagetransfer.googleapis.com is:
 * - operation names `transferOperations/transferJobs-{job}-{id}`;
 * - ListOperations: `name` must be `transferOperations`, `filter` is required and is Storage Transfer's JSON
 *   object (`{"projectId": "p", "jobNames": [...], "transferStatuses": [...]}`), at most 256 per page,
 *   newest first;
 * - REST: Get `GET /v1/{name=transferOperations/**}`, List `GET /v1/{name=transferOperations}`, Cancel
 *   `POST /v1/{name=transferOperations/**}:cancel`, pause/resume `POST …:pause` / `…:resume`; Delete and
 *   Wait have no REST binding in the real service and answer UNIMPLEMENTED here; gRPC: every method;
 * - ErrorInfo domain `storagetransfer.googleapis.com`.
 *
 *   node --import tsx examples/storage-transfer/server.ts [--host H] [--grpc-port N] [--http-port N] [--store URL] [--data DIR] [--copy-delay-ms N]
 *
 * Flags fall back to the same environment variables as `longrun serve` (LONGRUN_HOST, LONGRUN_GRPC_PORT,
 * LONGRUN_HTTP_PORT, LONGRUN_STORE), STORAGE_TRANSFER_DATA and STORAGE_TRANSFER_COPY_DELAY_MS; defaults
 * 127.0.0.1, 50051, 8080, sqlite:./storage-transfer.db, ./storage-transfer-data, 0.
 */
import type { ServerOptions } from "../../src/index.js";
import { runExampleIfMain } from "../shared/run-example.js";
import { JobFiles } from "./jobs.js";
import { runTransferJob, storageTransferEndpoints, type StorageTransferExampleOptions } from "./methods.js";
import { files, filterDialects, listScope, notificationNaming, profile } from "./profile.js";

/**
 * The server options that make longrun look like the real service — its profile module (names, the JSON
 * list filter and the project each list is about, page size, REST methods, pause/resume as controls;
 * profile.ts, docs/profiles.md) — with the job
 * RPCs and the handler, jobs kept under `dataDir`; tests use the same.
 */
export function storageTransferOptions(dataDir: string, extra: StorageTransferExampleOptions = {}) {
  const jobs = new JobFiles(dataDir);
  return {
    methods: [runTransferJob(jobs, extra)],
    profile,
    files,
    filterDialects,
    listScope,
    notificationNaming,
    extraEndpoints: () => storageTransferEndpoints(jobs),
  } satisfies Partial<ServerOptions>;
}

await runExampleIfMain(import.meta.url, {
  name: "storage-transfer",
  defaultStore: "sqlite:./storage-transfer.db",
  extraFlags: {
    data: { default: "./storage-transfer-data", env: "STORAGE_TRANSFER_DATA", describe: "where transfer jobs are stored" },
    "copy-delay-ms": { default: "0", env: "STORAGE_TRANSFER_COPY_DELAY_MS", describe: "a pause before each file is copied (demos, tests)" },
  },
  options: (flags) => {
    const copyDelayMs = Number(flags["copy-delay-ms"]);
    if (!Number.isInteger(copyDelayMs) || copyDelayMs < 0) throw new Error(`--copy-delay-ms: not a number of milliseconds: ${flags["copy-delay-ms"]}`);
    return storageTransferOptions(flags.data, { copyDelayMs });
  },
});
