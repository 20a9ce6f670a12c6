/**
 * Filters end to end: through a real server (the demo, whose metadata is SleepMetadata), over gRPC and
 * REST, on metadata the runtime wrote.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { Code } from "../../src/core/code.js";
import { fromBinary } from "@bufbuild/protobuf";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;

describe("filters through the server", () => {
  let t: TestServer;
  let finished: string;
  let failed: string;
  let running: string;

  before(async () => {
    t = await startTestServer();
    const sleep = (ms: number, extra: Record<string, unknown> = {}) => t.grpc.call(Demo.method.sleep, { duration: durationFromMs(ms), ...extra });
    finished = (await sleep(0)).name;
    failed = (await sleep(0, { failWith: { code: Code.NOT_FOUND, message: "no such 'thing'" } })).name;
    running = (await sleep(60_000)).name;
    for (const name of [finished, failed]) {
      const done = await t.grpc.call(ops.waitOperation, { name, timeout: durationFromMs(10_000) });
      assert.equal(done.done, true);
    }
  });
  after(async () => {
    await t.grpc.call(ops.cancelOperation, { name: running }).catch(() => {});
    await t.close();
  });

  const grpcList = async (filter: string, pageSize = 0) => {
    const names: string[] = [];
    let pageToken = "";
    do {
      const page = await t.grpc.call(ops.listOperations, { name: "operations", filter, pageSize, pageToken });
      names.push(...page.operations.map((o) => o.name));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return names;
  };
  const restList = async (filter: string) => {
    const res = await fetch(`${t.url}/v1/operations?${new URLSearchParams({ filter })}`);
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { operations?: { name: string }[] }).operations?.map((o) => o.name) ?? [];
  };

  it("selects on done, error, method and the metadata the runtime wrote, the same over gRPC and REST", async () => {
    const cases: [string, string[]][] = [
      ["done = true", [failed, finished]],
      ["done = false AND metadata.cancel_requested = false", [running]],
      ["metadata.progress_percent = 100 AND NOT error:*", [finished]],
      ["error.code = NOT_FOUND", [failed]],
      [`error.message = "*'thing'"`, [failed]],
      ["metadata.end_time:*", [failed, finished]],
      [`metadata.create_time > "2000-01-01T00:00:00Z" AND method = longrun.demo.v1.Demo.Sleep`, [running, failed, finished]],
      ["metadata.@type = longrun.demo.v1.SleepMetadata AND response.@type = longrun.demo.v1.SleepResponse", [finished]],
      [`name = "${running}" OR name = "${finished}"`, [running, finished]],
      ["create_time > 2999-01-01T00:00:00Z", []],
    ];
    for (const [filter, expected] of cases) {
      assert.deepEqual(await grpcList(filter), expected, `gRPC: ${filter}`);
      assert.deepEqual(await grpcList(filter, 1), expected, `gRPC, pages of 1: ${filter}`);
      assert.deepEqual(await restList(filter), expected, `REST: ${filter}`);
    }
  });

  it("refuses an invalid filter with INVALID_ARGUMENT naming the column, over gRPC and REST", async () => {
    const filter = "done = true AND metadata.progress = 5";
    const err = await callError(t.grpc.call(ops.listOperations, { name: "operations", filter }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.errorInfo?.reason, "INVALID_FILTER");
    assert.equal(err.errorInfo?.metadata.column, "26");
    assert.match(err.details, /filter: unknown field "metadata.progress": longrun.demo.v1.SleepMetadata has no field "progress" \(at column 26\); metadata fields: create_time, end_time, progress_percent, cancel_requested/);
    const status = fromBinary(StatusSchema, err.metadata.get("grpc-status-details-bin")[0] as Uint8Array);
    const badRequest = status.details.map((d) => anyUnpack(d, BadRequestSchema)).find((d) => d !== undefined);
    assert.equal(badRequest?.fieldViolations[0]?.field, "filter");

    const res = await fetch(`${t.url}/v1/operations?${new URLSearchParams({ filter: "metadata.progress_percent > high" })}`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { status: string; message: string; details: Record<string, unknown>[] } };
    assert.equal(body.error.status, "INVALID_ARGUMENT");
    assert.equal(body.error.message, 'filter: "high" is not an integer, as metadata.progress_percent needs (at column 29)');
    const violations = body.error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.BadRequest")?.fieldViolations;
    assert.deepEqual(violations, [{ field: "filter", description: '"high" is not an integer, as metadata.progress_percent needs (at column 29)' }]);
    const info = body.error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
    assert.deepEqual(info?.metadata, { column: "29", field: "filter" });
  });
});
