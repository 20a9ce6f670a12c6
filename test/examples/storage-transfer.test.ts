// The Storage Transfer example (examples/storage-transfer) against real clients, offline, over real
// temporary folders: the official @google-cloud/storage-transfer 3.6.1 (StorageTransferServiceClient, on its
// own nested google-gax 4) over gRPC and over its REST fallback, and the `googleapis` package's
// storagetransfer v1 (REST, gaxios). Transfers are slowed by the example's `copyDelayMs` test hook so that
// pause and cancel land mid-copy; every wait is for a condition, bounded by a deadline.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toJson } from "@bufbuild/protobuf";
import { v1 } from "@google-cloud/storage-transfer";
import { google, type storagetransfer_v1 } from "googleapis";
import type * as grpcJs from "@grpc/grpc-js";
import { storageTransferOptions } from "../../examples/storage-transfer/server.js";

/** Storage Transfer's largest ListOperations page: "The max allowed value is 256." */
const MAX_PAGE_SIZE = 256;
import { PARTIAL_SUFFIX } from "../../examples/storage-transfer/copy.js";
import { RunTransferJobRequestSchema, StorageTransferService } from "../../examples/storage-transfer/gen/google/storagetransfer/v1/transfer_pb.js";
import { TransferOperationSchema } from "../../examples/storage-transfer/gen/google/storagetransfer/v1/transfer_types_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { startServer, type LongrunServer } from "../../src/server.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

const TEST = { timeout: 30_000 };
const PROJECT = "test-project";
const CANCELLED = 1;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const FAILED_PRECONDITION = 9;
/** The test hook: each file waits this long before it is copied, so a 32-file job takes about 0.8 s. */
const COPY_DELAY_MS = 25;
const SLOW_FILES = 32;
const DOMAIN = "storagetransfer.googleapis.com";
const OPERATION_NAME = (job: string) => new RegExp(`^transferOperations/transferJobs-${job}-[A-Za-z0-9_-]{30}$`);

// The client's own google-gax (4.x, nested under @google-cloud/storage-transfer) and the google-auth-library
// it uses: an OAuth2Client with a fixed token needs no credentials lookup, and the insecure channel
// credentials replace TLS + Google credentials on gRPC.
type Client = InstanceType<typeof v1.StorageTransferServiceClient>;
type ClientOptions = NonNullable<ConstructorParameters<typeof v1.StorageTransferServiceClient>[0]>;
type AuthClient = NonNullable<ClientOptions["authClient"]>;
const require = createRequire(import.meta.url);
const nestedGaxPath = require.resolve("google-gax", { paths: [require.resolve("@google-cloud/storage-transfer")] });
const nestedGax = require(nestedGaxPath) as {
  version: string;
  grpc: typeof grpcJs;
};
const { OAuth2Client } = createRequire(nestedGaxPath)("google-auth-library") as {
  OAuth2Client: new () => AuthClient & { setCredentials(credentials: { access_token: string }): void };
};
/** Per-call options: short LRO polling, and a total timeout so nothing can hang. */
const CALL = { timeout: 10_000, longrunning: { initialRetryDelayMillis: 50, retryDelayMultiplier: 1.3, maxRetryDelayMillis: 300, totalTimeoutMillis: 20_000 } };

type GaxError = Error & { code?: number; reason?: string; domain?: string };
/** TransferOperation as the gax clients decode it (int64 as Long or string, enums as names). */
type Metadata = {
  name?: string | null;
  projectId?: string | null;
  transferJobName?: string | null;
  status?: string | number | null;
  startTime?: unknown;
  endTime?: unknown;
  counters?: Record<string, unknown> | null;
};

let t: TestServer;
let root: string;

before(async () => {
  assert.match(nestedGax.version, /^4\./, "the storage-transfer client's own google-gax");
  root = mkdtempSync(join(tmpdir(), "storage-transfer-"));
  t = await startTestServer(storageTransferOptions(join(root, "data"), { copyDelayMs: COPY_DELAY_MS }));
});
after(async () => {
  await t.close();
  rmSync(root, { recursive: true, force: true });
});

function authClient(): AuthClient {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: "test-token" });
  return client;
}

function grpcClient(): Client {
  const address = t.server.grpcAddress!;
  const i = address.lastIndexOf(":");
  return new v1.StorageTransferServiceClient({
    apiEndpoint: address.slice(0, i),
    port: Number(address.slice(i + 1)),
    sslCreds: nestedGax.grpc.credentials.createInsecure(),
    authClient: authClient(),
  });
}

function restClient(): Client {
  const { hostname, port } = new URL(t.url);
  return new v1.StorageTransferServiceClient({ apiEndpoint: hostname, port: Number(port), fallback: true, protocol: "http", authClient: authClient() });
}

// ---- folders ----------------------------------------------------------------------------------------------

let trees = 0;
/** A source folder of `count` files (nested two levels, sizes varying) and a sink path that does not exist yet. */
function tree(count: number): { source: string; sink: string; files: string[]; bytes: number } {
  const base = join(root, `tree${trees++}`);
  const source = join(base, "source");
  const files: string[] = [];
  let bytes = 0;
  mkdirSync(source, { recursive: true });
  for (let i = 0; i < count; i++) {
    const path = i % 3 === 0 ? `f${i}.txt` : `d${i % 3}/sub${i % 2}/f${i}.bin`;
    const content = Buffer.alloc(100 + ((i * 7919) % 5000), `${i}:${path};`);
    mkdirSync(join(source, path, ".."), { recursive: true });
    writeFileSync(join(source, path), content);
    files.push(path);
    bytes += content.length;
  }
  return { source, sink: join(base, "sink"), files: files.sort(), bytes };
}

/** The complete files in the sink (relative paths), leaving out copies in progress. */
function sinkFiles(sink: string): string[] {
  if (!existsSync(sink)) return [];
  return readdirSync(sink, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith(PARTIAL_SUFFIX))
    .map((e) => join(e.parentPath, e.name).slice(sink.length + 1))
    .sort();
}

function partialFiles(sink: string): string[] {
  if (!existsSync(sink)) return [];
  return readdirSync(sink, { recursive: true }).filter((p) => String(p).endsWith(PARTIAL_SUFFIX)).map(String);
}

function sinkBytes(sink: string): number {
  return sinkFiles(sink).reduce((sum, p) => sum + readFileSync(join(sink, p)).length, 0);
}

function assertSameContents(source: string, sink: string, files: readonly string[]): void {
  for (const p of files) assert.ok(readFileSync(join(source, p)).equals(readFileSync(join(sink, p))), `${p} differs`);
}

let jobs = 0;
function jobFor(folders: { source: string; sink: string }, name = `transferJobs/OPI-t${jobs++}`) {
  return {
    name,
    projectId: PROJECT,
    description: "a test job",
    status: "ENABLED" as const,
    transferSpec: { posixDataSource: { rootDirectory: folders.source }, posixDataSink: { rootDirectory: folders.sink } },
  };
}

// ---- small helpers -----------------------------------------------------------------------------------------

/** Runs `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

async function rejection<E = GaxError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error("expected a rejection");
}

/** An int64 counter as decoded by either client (Long, string, number) as a number. */
function count(counters: Record<string, unknown> | null | undefined, key: string): number {
  const value = counters?.[key];
  return value === undefined || value === null ? 0 : Number(String(value));
}

const STATUS_NAMES = ["STATUS_UNSPECIFIED", "IN_PROGRESS", "PAUSED", "SUCCESS", "FAILED", "ABORTED", "QUEUED", "SUSPENDING"];
function statusName(status: string | number | null | undefined): string {
  return typeof status === "number" ? (STATUS_NAMES[status] ?? String(status)) : (status ?? "STATUS_UNSPECIFIED");
}

/** What the gax client decodes as an LRO's metadata, read through checkRunTransferJobProgress (GetOperation). */
async function progressOf(client: Client, name: string): Promise<{ done: boolean; metadata: Metadata }> {
  const op = await client.checkRunTransferJobProgress(name);
  return { done: op.done ?? false, metadata: (op.metadata ?? {}) as Metadata };
}

/**
 * The operation as GetOperation (the client's operations mixin) answers it, its metadata decoded from the
 * Any's bytes: gax's LRO decodes no metadata once an operation has failed (longrunning.js _unpackResponse
 * returns at the error), and a cancelled transfer's metadata is what tells what was done.
 */
async function metadataOf(client: Client, name: string): Promise<{ done: boolean; errorCode: number | undefined; metadata: Metadata }> {
  const [raw] = await client.getOperation({ name } as never, CALL);
  const value: Uint8Array | string | null | undefined = raw.metadata?.value;
  const bytes = typeof value === "string" ? Buffer.from(value, "base64") : value;
  const metadata = bytes ? (toJson(TransferOperationSchema, fromBinary(TransferOperationSchema, bytes)) as Metadata) : {};
  return { done: raw.done ?? false, errorCode: raw.error?.code ?? undefined, metadata };
}

/** The metadata counters agree with what is in the sink, object for object and byte for byte. */
function assertCountersMatchSink(metadata: Metadata, sink: string): void {
  assert.equal(count(metadata.counters, "objectsCopiedToSink"), sinkFiles(sink).length);
  assert.equal(count(metadata.counters, "bytesCopiedToSink"), sinkBytes(sink));
}

// ---- the official client, gRPC -----------------------------------------------------------------------------

describe("StorageTransferServiceClient over gRPC", () => {
  let client: Client;
  before(() => {
    client = grpcClient();
  });
  after(() => client.close());

  it("createTransferJob, runTransferJob: promise() resolves Empty, the files are copied, counters exact", TEST, async () => {
    const folders = tree(7);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders, "transferJobs/OPI-grpc-1") }, CALL);
    assert.equal(job.name, "transferJobs/OPI-grpc-1");
    assert.equal(job.status, "ENABLED");
    assert.ok(job.creationTime?.seconds, "creation_time set");
    const [got] = await client.getTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    assert.equal(got.description, "a test job");
    assert.equal(got.transferSpec?.posixDataSource?.rootDirectory, folders.source);

    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    assert.match(operation.name!, OPERATION_NAME("OPI-grpc-1"));
    const [response, metadata, raw] = await operation.promise();
    assert.deepEqual({ ...response }, {});
    assert.equal(raw?.done, true);
    assert.deepEqual(sinkFiles(folders.sink), folders.files);
    assertSameContents(folders.source, folders.sink, folders.files);

    const m = metadata as Metadata;
    assert.equal(m.name, operation.name);
    assert.equal(m.projectId, PROJECT);
    assert.equal(m.transferJobName, job.name);
    assert.equal(statusName(m.status), "SUCCESS");
    assert.ok(m.startTime && m.endTime, "start_time and end_time set");
    assert.equal(count(m.counters, "objectsFoundFromSource"), 7);
    assert.equal(count(m.counters, "bytesFoundFromSource"), folders.bytes);
    assert.equal(count(m.counters, "objectsCopiedToSink"), 7);
    assert.equal(count(m.counters, "bytesCopiedToSink"), folders.bytes);
    assert.equal(count(m.counters, "directoriesFoundFromSource"), 1 + 2 + 4); // the root, d1 d2, their sub0 sub1

    // checkRunTransferJobProgress: GetOperation, decoded as the LRO.
    const checked = await client.checkRunTransferJobProgress(operation.name!);
    assert.equal(checked.done, true);
    assert.equal(statusName((checked.metadata as Metadata).status), "SUCCESS");
    // The job records its latest operation.
    const [after] = await client.getTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    assert.equal(after.latestOperationName, operation.name);

    // Run again: every file is up to date in the sink (same size and mtime), so nothing is copied.
    const [again] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    const [, againMetadata] = await again.promise();
    const a = againMetadata as Metadata;
    assert.equal(statusName(a.status), "SUCCESS");
    assert.equal(count(a.counters, "objectsFoundFromSource"), 0);
    assert.equal(count(a.counters, "objectsCopiedToSink"), 0);
    assert.equal(count(a.counters, "objectsFromSourceSkippedBySync"), 7);
    assert.equal(count(a.counters, "bytesFromSourceSkippedBySync"), folders.bytes);

    // A changed file (same size, new contents and mtime) is copied again; the others are skipped.
    const changed = folders.files[0]!;
    const size = readFileSync(join(folders.source, changed)).length;
    writeFileSync(join(folders.source, changed), Buffer.alloc(size, "changed"));
    const [third] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    const [, thirdMetadata] = await third.promise();
    assert.equal(count((thirdMetadata as Metadata).counters, "objectsCopiedToSink"), 1);
    assert.equal(count((thirdMetadata as Metadata).counters, "objectsFromSourceSkippedBySync"), 6);
    assertSameContents(folders.source, folders.sink, folders.files);
  });

  it("listOperationsAsync (the operations mixin) with Storage Transfer's JSON filter", TEST, async () => {
    const folders = tree(2);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders, "transferJobs/OPI-grpc-list") }, CALL);
    const [first] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    await first.promise();
    const [second] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    await second.promise();
    const list = async (filter: object) => {
      const names: string[] = [];
      const request = { name: "transferOperations", filter: JSON.stringify(filter), pageSize: 1 };
      for await (const op of client.listOperationsAsync(request as never, CALL)) names.push((op as { name?: string }).name ?? "");
      return names;
    };
    // Newest first; paged one by one through the client's async iterator.
    assert.deepEqual(await list({ projectId: PROJECT, jobNames: [job.name] }), [second.name, first.name]);
    assert.deepEqual(await list({ projectId: PROJECT, jobNames: [job.name], transferStatuses: ["failed"] }), []);
    assert.deepEqual(await list({ projectId: "other-project", jobNames: [job.name] }), []);
    const err = await rejection((async () => list({ jobNames: [job.name] }))());
    assert.equal(err.code, INVALID_ARGUMENT);
    assert.match(err.message, /projectId is required/);
    assert.equal(err.domain, DOMAIN);
    // ListOperations' name must be the collection.
    const other = await rejection(client.operationsClient.listOperations({ name: "operations", filter: JSON.stringify({ projectId: PROJECT }) } as never, CALL));
    assert.equal(other.code, INVALID_ARGUMENT);
    assert.match(other.message, /must be "transferOperations"/);
  });

  it("refuses bad jobs (INVALID_ARGUMENT naming the field), duplicates and unknown jobs", TEST, async () => {
    const folders = tree(1);
    const bad: [object, RegExp][] = [
      [{ ...jobFor(folders), projectId: "" }, /transfer_job\.project_id/],
      [{ ...jobFor(folders), status: "STATUS_UNSPECIFIED" }, /transfer_job\.status/],
      [{ ...jobFor(folders), name: "transferJobs/has.dot" }, /transfer_job\.name/],
      [{ ...jobFor(folders), transferSpec: { posixDataSource: { rootDirectory: folders.source } } }, /posix_data_sink/],
      [{ ...jobFor(folders), transferSpec: { gcsDataSource: { bucketName: "b" }, posixDataSink: { rootDirectory: folders.sink } } }, /posix_data_source/],
      [{ ...jobFor(folders), transferSpec: { posixDataSource: { rootDirectory: "relative" }, posixDataSink: { rootDirectory: folders.sink } } }, /root_directory: must be an absolute path/],
      [{ ...jobFor(folders), transferSpec: { posixDataSource: { rootDirectory: folders.source }, posixDataSink: { rootDirectory: join(folders.source, "in") } } }, /must not be the source directory or inside it/],
      [{ ...jobFor(folders), schedule: { scheduleStartDate: { year: 2030, month: 1, day: 1 } } }, /transfer_job\.schedule/],
    ];
    for (const [transferJob, message] of bad) {
      const err = await rejection(client.createTransferJob({ transferJob } as never, CALL));
      assert.equal(err.code, INVALID_ARGUMENT, `${JSON.stringify(transferJob)}: ${err.message}`);
      assert.match(err.message, message);
      assert.equal(err.domain, DOMAIN);
    }
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders, "transferJobs/OPI-dup") }, CALL);
    assert.equal((await rejection(client.createTransferJob({ transferJob: jobFor(folders, job.name!) }, CALL))).code, ALREADY_EXISTS);
    // A job without a name is given one (POSIX jobs are named transferJobs/OPI…).
    const [named] = await client.createTransferJob({ transferJob: { ...jobFor(folders), name: "" } }, CALL);
    assert.match(named.name!, /^transferJobs\/OPI\d+$/);

    const unknown = await rejection(client.runTransferJob({ jobName: "transferJobs/OPI-nope", projectId: PROJECT }, CALL));
    assert.equal(unknown.code, NOT_FOUND);
    assert.equal(unknown.domain, DOMAIN);
    // Another project's job is not found either, by Get or by Run.
    assert.equal((await rejection(client.getTransferJob({ jobName: job.name, projectId: "other-project" }, CALL))).code, NOT_FOUND);
    assert.equal((await rejection(client.runTransferJob({ jobName: job.name, projectId: "other-project" }, CALL))).code, NOT_FOUND);
    assert.equal((await rejection(client.runTransferJob({ jobName: job.name, projectId: "" }, CALL))).code, INVALID_ARGUMENT);
  });

  it("pause mid-copy: PAUSED, nothing copied while paused; resume: finishes SUCCESS", TEST, async () => {
    const folders = tree(SLOW_FILES);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders) }, CALL);
    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    const name = operation.name!;
    await until("a first file copied", async () => (sinkFiles(folders.sink).length >= 1 ? true : undefined));
    await client.pauseTransferOperation({ name }, CALL);
    const paused = await until("status PAUSED", async () => {
      const { metadata } = await progressOf(client, name);
      return statusName(metadata.status) === "PAUSED" ? metadata : undefined;
    });
    const copied = sinkFiles(folders.sink);
    assert.ok(copied.length > 0 && copied.length < SLOW_FILES, `paused mid-copy (${copied.length} of ${SLOW_FILES})`);
    assertCountersMatchSink(paused, folders.sink);
    // Several files' worth of time passes: nothing more is copied while paused.
    await new Promise((r) => setTimeout(r, 6 * COPY_DELAY_MS));
    assert.deepEqual(sinkFiles(folders.sink), copied);
    const still = await progressOf(client, name);
    assert.equal(still.done, false);
    assert.equal(statusName(still.metadata.status), "PAUSED");

    await client.resumeTransferOperation({ name }, CALL);
    const [, metadata] = await operation.promise();
    const m = metadata as Metadata;
    assert.equal(statusName(m.status), "SUCCESS");
    assert.deepEqual(sinkFiles(folders.sink), folders.files);
    assertSameContents(folders.source, folders.sink, folders.files);
    // Each file copied once: the files copied before the pause were not copied again.
    assert.equal(count(m.counters, "objectsCopiedToSink"), SLOW_FILES);
    assert.equal(count(m.counters, "bytesCopiedToSink"), folders.bytes);
    // A done operation cannot be paused.
    assert.equal((await rejection(client.pauseTransferOperation({ name }, CALL))).code, FAILED_PRECONDITION);
  });

  it("cancel mid-copy: CANCELLED (code 1), some files copied, counters match the sink", TEST, async () => {
    const folders = tree(SLOW_FILES);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders) }, CALL);
    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    await until("two files copied", async () => (sinkFiles(folders.sink).length >= 2 ? true : undefined));
    await client.cancelOperation({ name: operation.name! } as never, CALL);
    const err = await rejection(operation.promise());
    assert.equal(err.code, CANCELLED, err.message);

    const { done, errorCode, metadata } = await metadataOf(client, operation.name!);
    assert.equal(done, true);
    assert.equal(errorCode, CANCELLED);
    assert.equal(statusName(metadata.status), "ABORTED");
    const copied = sinkFiles(folders.sink);
    assert.ok(copied.length >= 2 && copied.length < SLOW_FILES, `stopped mid-copy (${copied.length} of ${SLOW_FILES})`);
    assertCountersMatchSink(metadata, folders.sink);
    assert.equal(count(metadata.counters, "objectsFoundFromSource"), SLOW_FILES);
    assert.deepEqual(partialFiles(folders.sink), [], "no half-written file is left");
    assertSameContents(folders.source, folders.sink, copied);
  });

  it("a missing source folder fails the operation: FAILED, NOT_FOUND", TEST, async () => {
    const folders = { source: join(root, "does-not-exist"), sink: join(root, "unused-sink") };
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders) }, CALL);
    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    const err = await rejection(operation.promise());
    assert.equal(err.code, NOT_FOUND, err.message);
    assert.match(err.message, /does-not-exist/);
    const { metadata } = await metadataOf(client, operation.name!);
    assert.equal(statusName(metadata.status), "FAILED");
  });
});

// ---- the official client, REST fallback ----------------------------------------------------------------------

describe("StorageTransferServiceClient over REST (fallback)", () => {
  let client: Client;
  before(() => {
    client = restClient();
  });
  after(() => client.close());

  it("createTransferJob, getTransferJob, runTransferJob: promise(), checkRunTransferJobProgress", TEST, async () => {
    const folders = tree(5);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders, "transferJobs/OPI-rest-1") }, CALL);
    assert.equal(job.name, "transferJobs/OPI-rest-1");
    const [got] = await client.getTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    assert.equal(got.transferSpec?.posixDataSink?.rootDirectory, folders.sink);

    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    assert.match(operation.name!, OPERATION_NAME("OPI-rest-1"));
    const [response, metadata, raw] = await operation.promise();
    assert.deepEqual({ ...response }, {});
    assert.equal(raw?.done, true);
    const m = metadata as Metadata;
    assert.equal(statusName(m.status), "SUCCESS");
    assert.equal(count(m.counters, "objectsCopiedToSink"), 5);
    assert.equal(count(m.counters, "bytesCopiedToSink"), folders.bytes);
    assertSameContents(folders.source, folders.sink, folders.files);

    const checked = await progressOf(client, operation.name!);
    assert.equal(checked.done, true);
    assert.equal(checked.metadata.transferJobName, job.name);
    // Errors decode with their ErrorInfo over REST too.
    const err = await rejection(client.getTransferJob({ jobName: "transferJobs/OPI-none", projectId: PROJECT }, CALL));
    assert.equal(err.code, NOT_FOUND);
    assert.equal(err.domain, DOMAIN);
    // The operations mixin's list, at GET /v1/{name=transferOperations}.
    const names: string[] = [];
    const request = { name: "transferOperations", filter: JSON.stringify({ projectId: PROJECT, jobNames: [job.name] }) };
    for await (const op of client.listOperationsAsync(request as never, CALL)) names.push((op as { name?: string }).name ?? "");
    assert.deepEqual(names, [operation.name]);
  });

  it("pauseTransferOperation / resumeTransferOperation mid-copy", TEST, async () => {
    const folders = tree(SLOW_FILES);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders) }, CALL);
    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    const name = operation.name!;
    await until("a first file copied", async () => (sinkFiles(folders.sink).length >= 1 ? true : undefined));
    await client.pauseTransferOperation({ name }, CALL);
    const paused = await until("status PAUSED", async () => {
      const { metadata } = await progressOf(client, name);
      return statusName(metadata.status) === "PAUSED" ? metadata : undefined;
    });
    assert.ok(sinkFiles(folders.sink).length < SLOW_FILES, "paused mid-copy");
    assertCountersMatchSink(paused, folders.sink);
    await client.resumeTransferOperation({ name }, CALL);
    const [, metadata] = await operation.promise();
    assert.equal(statusName((metadata as Metadata).status), "SUCCESS");
    assert.equal(count((metadata as Metadata).counters, "objectsCopiedToSink"), SLOW_FILES);
    assert.deepEqual(sinkFiles(folders.sink), folders.files);
  });

  it("cancelOperation mid-copy over REST", TEST, async () => {
    const folders = tree(SLOW_FILES);
    const [job] = await client.createTransferJob({ transferJob: jobFor(folders) }, CALL);
    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT }, CALL);
    await until("a first file copied", async () => (sinkFiles(folders.sink).length >= 1 ? true : undefined));
    await client.cancelOperation({ name: operation.name! } as never, CALL);
    assert.equal((await rejection(operation.promise())).code, CANCELLED);
    const { metadata } = await metadataOf(client, operation.name!);
    assert.equal(statusName(metadata.status), "ABORTED");
    assert.ok(sinkFiles(folders.sink).length < SLOW_FILES);
    assertCountersMatchSink(metadata, folders.sink);
  });
});

// ---- googleapis storagetransfer v1 --------------------------------------------------------------------------

describe("googleapis storagetransfer v1 (REST)", () => {
  let st: storagetransfer_v1.Storagetransfer;
  before(() => {
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: "test-token" });
    // retry: false and a timeout: nothing may hang, and a stray 5xx shows at once instead of after retries.
    st = google.storagetransfer({ version: "v1", rootUrl: `${t.url}/`, auth, retry: false, timeout: 10_000 } as never);
  });

  async function get(name: string): Promise<storagetransfer_v1.Schema$Operation> {
    const { data, status } = await st.transferOperations.get({ name });
    assert.equal(status, 200);
    return data;
  }
  async function untilDone(name: string): Promise<storagetransfer_v1.Schema$Operation> {
    return until(`${name} done`, async () => {
      const op = await get(name);
      return op.done ? op : undefined;
    });
  }
  async function untilStatus(name: string, status: string): Promise<storagetransfer_v1.Schema$TransferOperation> {
    return until(`${name} ${status}`, async () => {
      const metadata = (await get(name)).metadata as storagetransfer_v1.Schema$TransferOperation;
      return metadata.status === status ? metadata : undefined;
    });
  }
  async function httpError(promise: Promise<unknown>): Promise<{ status: number; error: { code: number; status: string; message: string } }> {
    const err = await rejection<{ status?: number; response?: { data?: { error?: { code: number; status: string; message: string } } } }>(promise);
    return { status: err.status ?? -1, error: err.response?.data?.error ?? { code: -1, status: "", message: "" } };
  }
  async function createAndRun(folders: { source: string; sink: string }, name?: string): Promise<{ job: string; operation: string }> {
    const created = await st.transferJobs.create({ requestBody: jobFor(folders, name) });
    assert.equal(created.status, 200);
    const run = await st.transferJobs.run({ jobName: created.data.name!, requestBody: { projectId: PROJECT } });
    assert.equal(run.status, 200);
    return { job: created.data.name!, operation: run.data.name! };
  }
  function listFilter(filter: object, extra: { pageSize?: number; pageToken?: string } = {}) {
    return st.transferOperations.list({ name: "transferOperations", filter: JSON.stringify(filter), ...extra });
  }

  it("transferJobs.create, get, run; transferOperations.get until done", TEST, async () => {
    const folders = tree(4);
    const { job, operation } = await createAndRun(folders, "transferJobs/OPI-api-1");
    assert.match(operation, OPERATION_NAME("OPI-api-1"));
    const { data: got } = await st.transferJobs.get({ jobName: job, projectId: PROJECT });
    assert.equal(got.status, "ENABLED");
    const op = await untilDone(operation);
    assert.equal(op.error, undefined);
    assert.deepEqual(op.response, { "@type": "type.googleapis.com/google.protobuf.Empty" });
    const metadata = op.metadata as storagetransfer_v1.Schema$TransferOperation & { "@type": string };
    assert.equal(metadata["@type"], "type.googleapis.com/google.storagetransfer.v1.TransferOperation");
    assert.equal(metadata.status, "SUCCESS");
    assert.equal(metadata.transferJobName, job);
    assert.equal(metadata.projectId, PROJECT);
    assert.equal(metadata.counters?.objectsCopiedToSink, "4");
    assert.equal(metadata.counters?.bytesCopiedToSink, String(folders.bytes));
    assertSameContents(folders.source, folders.sink, folders.files);
    // GetTransferJob needs its project (the client checks it is given; the server that it is not empty): 400.
    assert.equal((await httpError(st.transferJobs.get({ jobName: job, projectId: "" }))).status, 400);
    assert.equal((await httpError(st.transferJobs.get({ jobName: "transferJobs/OPI-none", projectId: PROJECT }))).status, 404);
    assert.equal((await httpError(st.transferJobs.run({ jobName: "transferJobs/OPI-none", requestBody: { projectId: PROJECT } }))).status, 404);
  });

  it("transferOperations.list: the JSON filter is required, projectId in it; jobNames, transferStatuses", TEST, async () => {
    const a = await createAndRun(tree(1), "transferJobs/OPI-api-list-a");
    const b = await createAndRun(tree(2), "transferJobs/OPI-api-list-b");
    await untilDone(a.operation);
    await untilDone(b.operation);

    // googleapis itself refuses a call without `filter` ("Missing required parameters: filter"); an empty
    // one reaches the server.
    await assert.rejects(st.transferOperations.list({ name: "transferOperations" }), /Missing required parameters: filter/);
    const missing = await httpError(st.transferOperations.list({ name: "transferOperations", filter: "" }));
    assert.equal(missing.status, 400);
    assert.equal(missing.error.status, "INVALID_ARGUMENT");
    assert.match(missing.error.message, /filter is required/);
    const noProject = await httpError(listFilter({ jobNames: [a.job] }));
    assert.equal(noProject.status, 400);
    assert.equal(noProject.error.status, "INVALID_ARGUMENT");
    assert.match(noProject.error.message, /projectId is required/);
    assert.equal((await httpError(listFilter({ projectId: PROJECT, transferStatuses: ["DONE"] }))).status, 400);

    const both = await listFilter({ projectId: PROJECT, jobNames: [a.job, b.job] });
    assert.deepEqual(
      both.data.operations?.map((o) => o.name),
      [b.operation, a.operation], // newest first
    );
    const one = await listFilter({ projectId: PROJECT, jobNames: [a.job], transferStatuses: ["success", "IN_PROGRESS"] });
    assert.deepEqual(one.data.operations?.map((o) => o.name), [a.operation]);
    const none = await listFilter({ projectId: PROJECT, jobNames: [a.job], transferStatuses: ["ABORTED"] });
    assert.equal(none.data.operations, undefined);
    const byPattern = await listFilter({ projectId: PROJECT, jobNamePattern: "transferJobs/OPI-api-list-*" });
    assert.equal(byPattern.data.operations?.length, 2);
  });

  it("pageSize above 256 is coerced to 256; nextPageToken pages on", TEST, async () => {
    const { job } = await createAndRun({ source: mkdtempSync(join(root, "empty-")), sink: join(root, "empty-sink") }, "transferJobs/OPI-api-many");
    // 259 more operations of the same job, through the runtime's batch start (one store write) rather than
    // 259 RPCs: each is a real RunTransferJob operation of an empty folder.
    const request = create(RunTransferJobRequestSchema, { jobName: job, projectId: PROJECT });
    const method = `${StorageTransferService.typeName}.RunTransferJob`;
    await t.server.runtime.startOperations(method, Array.from({ length: 259 }, () => request));
    const filter = { projectId: PROJECT, jobNames: [job], transferStatuses: ["SUCCESS"] };
    // Operations are listable by project once their handler has recorded it: wait until all 260 have run,
    // that is until a full first page (256, not 300) is followed by a last page of 4.
    const [first, last] = await until("260 transfers done", async () => {
      const page = await listFilter(filter, { pageSize: 300 });
      if (page.data.operations?.length !== MAX_PAGE_SIZE || !page.data.nextPageToken) return undefined;
      const next = await listFilter(filter, { pageSize: 300, pageToken: page.data.nextPageToken });
      return next.data.operations?.length === 4 ? [page.data, next.data] : undefined;
    });
    assert.equal(last.nextPageToken, undefined, "no token on the last page");
    const all = new Set([...first.operations!, ...last.operations!].map((o) => o.name));
    assert.equal(all.size, 260);
  });

  it("pause, resume and cancel; over the wire they answer 200 {} as JSON", TEST, async () => {
    const folders = tree(SLOW_FILES);
    const { operation } = await createAndRun(folders);
    await until("a first file copied", async () => (sinkFiles(folders.sink).length >= 1 ? true : undefined));
    const paused = await st.transferOperations.pause({ name: operation, requestBody: {} });
    assert.equal(paused.status, 200);
    assert.deepEqual(paused.data, {});
    const metadata = await untilStatus(operation, "PAUSED");
    assert.equal(Number(metadata.counters?.objectsCopiedToSink ?? 0), sinkFiles(folders.sink).length);
    const resumed = await st.transferOperations.resume({ name: operation, requestBody: {} });
    assert.equal(resumed.status, 200);
    await untilStatus(operation, "IN_PROGRESS");
    const cancelled = await st.transferOperations.cancel({ name: operation, requestBody: {} });
    assert.equal(cancelled.status, 200);
    assert.deepEqual(cancelled.data, {});
    const op = await untilDone(operation);
    assert.equal(op.error?.code, CANCELLED);
    const final = op.metadata as storagetransfer_v1.Schema$TransferOperation;
    assert.equal(final.status, "ABORTED");
    assert.equal(Number(final.counters?.objectsCopiedToSink ?? 0), sinkFiles(folders.sink).length);
    assert.ok(sinkFiles(folders.sink).length < SLOW_FILES);

    // The raw wire: 200, an empty JSON object, Content-Type application/json — with an empty body or `{}`.
    const other = await createAndRun(tree(SLOW_FILES));
    const signal = AbortSignal.timeout(5_000);
    for (const [verb, body] of [
      ["pause", undefined],
      ["resume", "{}"],
      ["cancel", undefined],
    ] as const) {
      const res = await fetch(`${t.url}/v1/${other.operation}:${verb}`, { method: "POST", body, signal, headers: body ? { "content-type": "application/json" } : {} });
      assert.equal(res.status, 200, verb);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(await res.json(), {}, verb);
    }
    assert.equal((await untilDone(other.operation)).error?.code, CANCELLED);
    // Pausing an unknown operation: 404; a malformed name: 400.
    assert.equal((await httpError(st.transferOperations.pause({ name: "transferOperations/transferJobs-x-nope", requestBody: {} }))).status, 404);
    assert.equal((await fetch(`${t.url}/v1/transferOperations/a/b:pause`, { method: "POST", signal })).status, 400);
  });

  it("Delete and Wait have no REST binding in the real service: 501 UNIMPLEMENTED here", TEST, async () => {
    const { operation } = await createAndRun(tree(1));
    await untilDone(operation);
    const signal = AbortSignal.timeout(5_000);
    for (const [method, path, body] of [
      ["DELETE", `/v1/${operation}`, undefined],
      ["POST", `/v1/${operation}:wait`, "{}"],
    ] as const) {
      const res = await fetch(`${t.url}${path}`, { method, headers: { "content-type": "application/json" }, body, signal });
      assert.equal(res.status, 501, `${method} ${path}`);
      const json = (await res.json()) as { error: { status: string; details: { domain?: string }[] } };
      assert.equal(json.error.status, "UNIMPLEMENTED");
      assert.equal(json.error.details[0]?.domain, DOMAIN);
    }
    // Still there: Delete did nothing.
    assert.equal((await get(operation)).done, true);
  });
});

// ---- a restart mid-transfer ----------------------------------------------------------------------------------

describe("a transfer interrupted by a server restart", () => {
  it("is run again: files already copied are not copied again, counters exact, SUCCESS", TEST, async () => {
    const dir = mkdtempSync(join(root, "restart-"));
    const start = () =>
      startServer({
        ...storageTransferOptions(join(dir, "data"), { copyDelayMs: COPY_DELAY_MS }),
        store: SqliteStore.open(join(dir, "longrun.db")),
        grpc: false,
        http: { host: "127.0.0.1", port: 0 },
        shutdownGraceMs: 0, // give the running transfer back at once
        retryBackoff: { initialMs: 20, maxMs: 20 },
        log: () => undefined,
      });
    const json = async (url: string, body?: object) => {
      const res = await fetch(url, { method: body ? "POST" : "GET", headers: { "content-type": "application/json" }, body: body && JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 200, `${url}: ${res.status}`);
      return (await res.json()) as { name: string; done?: boolean; error?: { code: number }; metadata: Metadata & { counters?: Record<string, string> } };
    };
    const folders = tree(SLOW_FILES);
    const first = await start();
    let second: LongrunServer | undefined;
    try {
      const job = await json(`${first.httpUrl}/v1/transferJobs`, jobFor(folders));
      const { name } = await json(`${first.httpUrl}/v1/${job.name}:run`, { projectId: PROJECT });
      await until("three files copied", async () => (sinkFiles(folders.sink).length >= 3 ? true : undefined));
      await first.close(); // the handler is stopped mid-copy; the operation is queued again, attempt 2
      const copiedBefore = new Map(sinkFiles(folders.sink).map((p) => [p, statSync(join(folders.sink, p)).ino]));
      assert.ok(copiedBefore.size < SLOW_FILES, "interrupted mid-copy");

      second = await start();
      const url = second.httpUrl;
      const op = await until("the transfer done after the restart", async () => {
        const got = await json(`${url}/v1/${name}`);
        return got.done ? got : undefined;
      });
      assert.equal(op.error, undefined);
      assert.equal(op.metadata.status, "SUCCESS");
      assert.deepEqual(sinkFiles(folders.sink), folders.files);
      assertSameContents(folders.source, folders.sink, folders.files);
      // Not copied again: a copy would have replaced the file (a new inode, by the rename).
      for (const [p, ino] of copiedBefore) assert.equal(statSync(join(folders.sink, p)).ino, ino, `${p} copied again`);
      const counters = op.metadata.counters ?? {};
      assert.equal(counters.objectsFoundFromSource, String(SLOW_FILES));
      assert.equal(counters.objectsCopiedToSink, String(SLOW_FILES));
      assert.equal(counters.bytesCopiedToSink, String(folders.bytes));
      assert.equal(counters.objectsFromSourceSkippedBySync, undefined);
    } finally {
      await first.close(); // close() is idempotent
      await second?.close();
    }
  });
});
