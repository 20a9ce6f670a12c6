// The Storage Transfer example with completion notifications: what its NotificationConfig publishes to
// Pub/Sub — eventType TRANSFER_OPERATION_SUCCESS / FAILED / ABORTED, attributes projectId, transferJobName,
// transferOperationName, payloadFormat — arrives at a real webhook receiver as a Pub/Sub push envelope,
// the operation started by the official client (@google-cloud/storage-transfer over gRPC).
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { v1 } from "@google-cloud/storage-transfer";
import type * as grpcJs from "@grpc/grpc-js";
import { storageTransferOptions } from "../../examples/storage-transfer/server.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { envelopeOf, startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const PROJECT = "notify-project";
// The client's own google-gax and google-auth-library (nested under @google-cloud/storage-transfer), as in
// storage-transfer.test.ts: a fixed token, an insecure channel.
type ClientOptions = NonNullable<ConstructorParameters<typeof v1.StorageTransferServiceClient>[0]>;
type AuthClient = NonNullable<ClientOptions["authClient"]>;
const require = createRequire(import.meta.url);
const nestedGaxPath = require.resolve("google-gax", { paths: [require.resolve("@google-cloud/storage-transfer")] });
const nestedGax = require(nestedGaxPath) as { grpc: typeof grpcJs };
const { OAuth2Client } = createRequire(nestedGaxPath)("google-auth-library") as {
  OAuth2Client: new () => AuthClient & { setCredentials(credentials: { access_token: string }): void };
};

let root: string;
let t: TestServer;
let receiver: WebhookReceiver;
before(async () => {
  root = mkdtempSync(join(tmpdir(), "storage-transfer-notify-"));
  receiver = await startWebhookReceiver();
  t = await startTestServer({ ...storageTransferOptions(join(root, "data")), notify: [{ url: receiver.url }] });
});
after(async () => {
  await t.close();
  await receiver.close();
  rmSync(root, { recursive: true, force: true });
});

async function eventually(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

it("a finished transfer operation is announced as Storage Transfer announces it", { timeout: 60_000 }, async () => {
  const address = t.server.grpcAddress!;
  const i = address.lastIndexOf(":");
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: "test-token" });
  const client = new v1.StorageTransferServiceClient({
    apiEndpoint: address.slice(0, i),
    port: Number(address.slice(i + 1)),
    sslCreds: nestedGax.grpc.credentials.createInsecure(),
    authClient: auth,
  });
  try {
    const source = join(root, "source");
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, "a.txt"), "hello");
    const [job] = await client.createTransferJob({
      transferJob: {
        name: "transferJobs/notify-1",
        projectId: PROJECT,
        status: "ENABLED",
        transferSpec: { posixDataSource: { rootDirectory: source }, posixDataSink: { rootDirectory: join(root, "sink") } },
      },
    });
    const [operation] = await client.runTransferJob({ jobName: job.name, projectId: PROJECT });
    await operation.promise();
    const missing = await client.createTransferJob({
      transferJob: {
        name: "transferJobs/notify-2",
        projectId: PROJECT,
        status: "ENABLED",
        transferSpec: { posixDataSource: { rootDirectory: join(root, "nope") }, posixDataSink: { rootDirectory: join(root, "sink2") } },
      },
    });
    const [failing] = await client.runTransferJob({ jobName: missing[0].name, projectId: PROJECT });
    await assert.rejects(failing.promise());

    await eventually(() => receiver.received.length >= 2);
    const byType = new Map(receiver.received.map((r) => [envelopeOf(r).attributes["eventType"], envelopeOf(r)]));
    const success = byType.get("TRANSFER_OPERATION_SUCCESS");
    assert.ok(success, [...byType.keys()].join());
    assert.equal(success.attributes["projectId"], PROJECT);
    assert.equal(success.attributes["transferJobName"], "transferJobs/notify-1");
    assert.equal(success.attributes["transferOperationName"], operation.name);
    assert.equal(success.attributes["operationName"], operation.name);
    assert.equal(success.attributes["payloadFormat"], "JSON");
    assert.equal(success.operation?.["name"], operation.name);
    assert.equal((success.operation?.["metadata"] as Record<string, string>)["@type"], "type.googleapis.com/google.storagetransfer.v1.TransferOperation");
    const failed = byType.get("TRANSFER_OPERATION_FAILED");
    assert.ok(failed);
    assert.equal(failed.attributes["transferJobName"], "transferJobs/notify-2");
    assert.equal(receiver.received.length, 2);
  } finally {
    await client.close();
  }
});

it("a job's notificationConfig narrows its events: only the types it lists, in its payload format", { timeout: 60_000 }, async () => {
  const address = t.server.grpcAddress!;
  const i = address.lastIndexOf(":");
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: "test-token" });
  const client = new v1.StorageTransferServiceClient({ apiEndpoint: address.slice(0, i), port: Number(address.slice(i + 1)), sslCreds: nestedGax.grpc.credentials.createInsecure(), authClient: auth });
  try {
    const before = receiver.received.length;
    const source = join(root, "source-config");
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, "b.txt"), "hi");
    // The client takes enum names (as JSON does); its types say numbers.
    const notificationConfig = { pubsubTopic: `projects/${PROJECT}/topics/transfers`, eventTypes: ["TRANSFER_OPERATION_FAILED"], payloadFormat: "NONE" } as never;
    const spec = (src: string, sink: string) => ({ posixDataSource: { rootDirectory: src }, posixDataSink: { rootDirectory: sink } });
    const [quiet] = await client.createTransferJob({ transferJob: { name: "transferJobs/config-ok", projectId: PROJECT, status: "ENABLED", notificationConfig, transferSpec: spec(source, join(root, "sink-c1")) } });
    const [loud] = await client.createTransferJob({ transferJob: { name: "transferJobs/config-fails", projectId: PROJECT, status: "ENABLED", notificationConfig, transferSpec: spec(join(root, "nope2"), join(root, "sink-c2")) } });
    const [ok] = await client.runTransferJob({ jobName: quiet.name, projectId: PROJECT });
    await ok.promise();
    const [bad] = await client.runTransferJob({ jobName: loud.name, projectId: PROJECT });
    await assert.rejects(bad.promise());
    await eventually(() => receiver.received.length > before);
    await new Promise((r) => setTimeout(r, 500)); // the success must stay silent: give it time to show up if it were sent
    const mine = receiver.received.slice(before).map(envelopeOf);
    assert.deepEqual(mine.map((e) => [e.attributes["transferJobName"], e.attributes["eventType"], e.attributes["payloadFormat"]]), [["transferJobs/config-fails", "TRANSFER_OPERATION_FAILED", "NONE"]]);
    assert.equal(mine[0]!.operation, undefined, "payloadFormat NONE: no data");
    const badConfig = { ...(notificationConfig as object), pubsubTopic: "my-topic" } as never;
    const refused = await client
      .createTransferJob({ transferJob: { name: "transferJobs/config-bad", projectId: PROJECT, status: "ENABLED", notificationConfig: badConfig, transferSpec: spec(source, join(root, "sink-c3")) } })
      .then(() => undefined, (e: { code: number }) => e);
    assert.equal((refused as { code: number }).code, 3, "INVALID_ARGUMENT for a topic that is not projects/*/topics/*");
  } finally {
    await client.close();
  }
});

