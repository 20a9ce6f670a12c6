/** Readiness follows the store: PostgreSQL stopped → /readyz 503 and gRPC NOT_SERVING; started again → back. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { privatePostgresUnsupported, startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { sampleValue, scrape } from "../support/metrics.js";

/** grpc.health.v1.HealthCheckResponse.ServingStatus */
const SERVING = 1;
const NOT_SERVING = 2;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("readiness on PostgreSQL (a private cluster, stopped and started)", { skip: privatePostgresUnsupported() }, () => {
  let cluster: PrivatePostgres | undefined;
  let t: TestServer | undefined;
  before(async () => {
    cluster = await startPrivatePostgres();
    const store = await PostgresStore.open({ connectionString: cluster.url, schema: "lr_ready" });
    t = await startTestServer({ store, metrics: { countsCacheMs: 0, processMetrics: false } });
  });
  after(async () => {
    await t?.close();
    await cluster?.destroy();
  });

  const health = async (service = ""): Promise<number> => {
    const request = Buffer.from(new BinaryWriter().tag(1, 2).string(service).finish());
    const response = new BinaryReader(await t!.grpc.raw("/grpc.health.v1.Health/Check", request));
    response.tag();
    return response.int32();
  };
  const ready = async () => (await fetch(`${t!.url}/readyz`)).status;

  it("flips to 503 and NOT_SERVING while the store is unreachable, and back when it returns", { timeout: 90_000 }, async () => {
    assert.equal(await ready(), 200);
    await until("SERVING", async () => (await health()) === SERVING);
    assert.equal((await scrape(`${t!.url}/metrics`)).samples.some((s) => s.name === "longrun_operations"), true);

    await cluster!.stop("fast");
    await until("/readyz 503", async () => (await ready()) === 503);
    const body = (await (await fetch(`${t!.url}/readyz`)).json()) as { error: { status: string; message: string } };
    assert.equal(body.error.status, "UNAVAILABLE");
    assert.match(body.error.message, /store is unreachable/);
    await until("NOT_SERVING", async () => (await health()) === NOT_SERVING && (await health("google.longrunning.Operations")) === NOT_SERVING);
    assert.equal((await fetch(`${t!.url}/healthz`)).status, 200, "the process is up all the same");
    // A scrape still answers (without the counts it cannot read), and counts the store's failures.
    const down = await scrape(`${t!.url}/metrics`);
    assert.ok(sampleValue(down.samples, "longrun_store_errors_total") > 0);

    await cluster!.start();
    await until("/readyz 200", async () => (await ready()) === 200);
    await until("SERVING again", async () => (await health()) === SERVING && (await health("longrun.demo.v1.Demo")) === SERVING);
    await until("counts again", async () => (await scrape(`${t!.url}/metrics`)).samples.some((s) => s.name === "longrun_operations"));
  });
});
