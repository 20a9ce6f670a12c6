import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, codeOfHttpStatus } from "../../src/core/code.js";
import { buildRegistry } from "../../src/core/registry.js";
import { DEFAULT_RETRY_POLICY, retryBackoffMs, retryPolicy, shouldRetry } from "../../src/client/retry.js";
import { DEFAULT_POLLING_POLICY, jitteredMs, pollSchedule, pollingPolicy } from "../../src/client/wait.js";
import { annotatedBinding, operationsBindings, transcodeRequest, BindingMismatchError } from "../../src/client/rest-request.js";
import { percentEncode } from "../../src/http/path-match.js";
import { restBaseUrl } from "../../src/client/rest.js";
import { grpcTarget } from "../../src/client/grpc.js";
import { progressField, progressPercent } from "../../src/client/progress.js";
import {
  CancelOperationRequestSchema,
  GetOperationRequestSchema,
  ListOperationsRequestSchema,
  Operations,
  WaitOperationRequestSchema,
} from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema, SleepRequestSchema, file_longrun_demo_v1_demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { OperationMetadataSchema } from "../../src/gen/google/cloud/common/operation_metadata_pb.js";

describe("retry policy", () => {
  it("retries only UNAVAILABLE, up to maxAttempts", () => {
    assert.equal(shouldRetry(DEFAULT_RETRY_POLICY, Code.UNAVAILABLE, 1), true);
    assert.equal(shouldRetry(DEFAULT_RETRY_POLICY, Code.UNAVAILABLE, 4), true);
    assert.equal(shouldRetry(DEFAULT_RETRY_POLICY, Code.UNAVAILABLE, 5), false);
    for (const code of [Code.DEADLINE_EXCEEDED, Code.ABORTED, Code.RESOURCE_EXHAUSTED, Code.INTERNAL, Code.NOT_FOUND]) {
      assert.equal(shouldRetry(DEFAULT_RETRY_POLICY, code, 1), false, Code[code]);
    }
  });

  it("backs off with full jitter under an exponentially growing, capped bound", () => {
    const top = () => 0.999999;
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => retryBackoffMs(DEFAULT_RETRY_POLICY, n, top)), [499, 999, 1999, 3999, 7999, 9999, 9999]);
    assert.equal(retryBackoffMs(DEFAULT_RETRY_POLICY, 3, () => 0), 0);
    assert.throws(() => retryPolicy({ maxAttempts: 0 }), RangeError);
  });
});

describe("polling schedule", () => {
  it("is google-gax's: 100 ms, ×1.3, at most 60 s", () => {
    const schedule = pollSchedule(DEFAULT_POLLING_POLICY, 30);
    assert.deepEqual(schedule.slice(0, 4).map(Math.round), [100, 130, 169, 220]);
    assert.equal(schedule.at(-1), 60_000);
    assert.ok(schedule.every((d, i) => i === 0 || d >= schedule[i - 1]!));
  });

  it("jitters each pause within ±jitter", () => {
    const policy = pollingPolicy({ jitter: 0.2 });
    assert.equal(jitteredMs(policy, 1000, () => 0), 800);
    assert.equal(jitteredMs(policy, 1000, () => 0.5), 1000);
    assert.equal(jitteredMs(policyNoJitter(), 1000, () => 0.9), 1000);
    assert.throws(() => pollingPolicy({ jitter: 1 }), RangeError);
  });
});

function policyNoJitter() {
  return pollingPolicy({ jitter: 0 });
}

describe("REST transcoding (client side of google.api.http)", () => {
  const registry = buildRegistry([file_longrun_demo_v1_demo]);
  const bindings = operationsBindings();
  const m = Operations.method;
  const binding = (name: string) => bindings[`google.longrunning.Operations.${name}`]!;

  it("puts a multi-segment name in the path, keeping its slashes, encoding the rest", () => {
    const get = transcodeRequest(binding("GetOperation"), m.getOperation.input, create(GetOperationRequestSchema, { name: "operations/a b%/c" }), registry);
    assert.deepEqual(get, { method: "GET", pathAndQuery: "/v1/operations/a%20b%25/c", body: undefined });
    assert.equal(percentEncode("a/b:c~", false), "a%2Fb%3Ac~");
  });

  it("sends the remaining fields as the body (body: *) or as query parameters", () => {
    const cancel = transcodeRequest(binding("CancelOperation"), m.cancelOperation.input, create(CancelOperationRequestSchema, { name: "operations/x" }), registry);
    assert.deepEqual(cancel, { method: "POST", pathAndQuery: "/v1/operations/x:cancel", body: "{}" });
    const wait = transcodeRequest(
      binding("WaitOperation"),
      m.waitOperation.input,
      create(WaitOperationRequestSchema, { name: "operations/x", timeout: durationFromMs(5000) }),
      registry,
    );
    assert.deepEqual(wait, { method: "POST", pathAndQuery: "/v1/operations/x:wait", body: '{"timeout":"5s"}' });
    const list = transcodeRequest(
      binding("ListOperations"),
      m.listOperations.input,
      create(ListOperationsRequestSchema, { name: "operations", filter: "done = false", pageSize: 2, pageToken: "t/+" }),
      registry,
    );
    assert.deepEqual(list, { method: "GET", pathAndQuery: "/v1/operations?filter=done+%3D+false&pageSize=2&pageToken=t%2F%2B", body: undefined });
  });

  it("expands templates with literals after ** (Cloud Search's lro list), inside or after the variable", () => {
    const list = (path: string, name: string) =>
      transcodeRequest({ method: "GET", path }, m.listOperations.input, create(ListOperationsRequestSchema, { name }), registry).pathAndQuery;
    assert.equal(list("/v1/{name=operations/**}/lro", "operations"), "/v1/operations/lro");
    assert.equal(list("/v1/{name=operations/**}/lro", "operations/a/b"), "/v1/operations/a/b/lro");
    assert.equal(list("/v1/{name=**/x/y}", "a/b/x/y"), "/v1/a/b/x/y");
    assert.throws(() => list("/v1/{name=**/x/y}", "a/b/x"), BindingMismatchError);
    assert.throws(() => list("/v1/{name=**/x/y}", "y"), BindingMismatchError);
  });

  it("reads a method's own google.api.http rule", () => {
    const rule = annotatedBinding(Demo.method.sleep);
    assert.deepEqual(rule, { method: "POST", path: "/v1/demo:sleep", body: "*" });
    const parts = transcodeRequest(rule!, SleepRequestSchema, create(SleepRequestSchema, { duration: durationFromMs(1500), requestId: "r" }), registry);
    assert.deepEqual(parts, { method: "POST", pathAndQuery: "/v1/demo:sleep", body: '{"duration":"1.500s","requestId":"r"}' });
    assert.equal(annotatedBinding(Operations.method.waitOperation), undefined, "upstream Wait has no binding");
  });

  it("follows the server's naming: another collection, parent-scoped names", () => {
    const scoped = operationsBindings({ parent: "projects/*/locations/*" });
    const get = transcodeRequest(
      scoped["google.longrunning.Operations.GetOperation"]!,
      m.getOperation.input,
      create(GetOperationRequestSchema, { name: "projects/p/locations/l/operations/x" }),
      registry,
    );
    assert.equal(get.pathAndQuery, "/v1/projects/p/locations/l/operations/x");
    const list = transcodeRequest(
      scoped["google.longrunning.Operations.ListOperations"]!,
      m.listOperations.input,
      create(ListOperationsRequestSchema, { name: "projects/p/locations/l" }),
      registry,
    );
    assert.equal(list.pathAndQuery, "/v1/projects/p/locations/l/operations");
    const transfer = operationsBindings({ collection: "transferOperations" })["google.longrunning.Operations.CancelOperation"]!;
    assert.equal(transfer.path, "/v1/{name=transferOperations/**}:cancel");
  });

  it("refuses a name outside the binding's pattern", () => {
    assert.throws(
      () => transcodeRequest(binding("GetOperation"), m.getOperation.input, create(GetOperationRequestSchema, { name: "projects/p/operations/x" }), registry),
      BindingMismatchError,
    );
  });
});

describe("addresses and HTTP statuses", () => {
  it("reads gRPC targets and REST base URLs", () => {
    assert.deepEqual(grpcTarget("localhost:50051"), { target: "localhost:50051", tls: false });
    assert.deepEqual(grpcTarget("http://h:1"), { target: "h:1", tls: false });
    assert.deepEqual(grpcTarget("https://h:443/"), { target: "h:443", tls: true });
    assert.deepEqual(grpcTarget("grpcs://h:443"), { target: "h:443", tls: true });
    assert.throws(() => grpcTarget("ftp://h:1"));
    assert.equal(restBaseUrl("h:8080"), "http://h:8080");
    assert.equal(restBaseUrl("https://h/api/"), "https://h/api");
    assert.equal(restBaseUrl("h:8443", true), "https://h:8443");
  });

  it("maps an HTTP status without a google.rpc.Status the way gRPC does", () => {
    assert.equal(codeOfHttpStatus(404), Code.UNIMPLEMENTED);
    assert.equal(codeOfHttpStatus(503), Code.UNAVAILABLE);
    assert.equal(codeOfHttpStatus(401), Code.UNAUTHENTICATED);
    assert.equal(codeOfHttpStatus(418), Code.UNKNOWN);
  });
});

describe("progress from metadata", () => {
  it("finds progress_percent, or a field named by the caller", () => {
    assert.deepEqual(progressField(SleepMetadataSchema)?.map((f) => f.name), ["progress_percent"]);
    assert.equal(progressPercent(create(SleepMetadataSchema, { progressPercent: 40 }), SleepMetadataSchema), 40);
    assert.equal(progressPercent(create(SleepMetadataSchema, { progressPercent: 140 }), SleepMetadataSchema), 100);
    assert.equal(progressField(OperationMetadataSchema), undefined, "no percentage field");
    assert.equal(progressPercent(create(SleepMetadataSchema, { progressPercent: 7 }), SleepMetadataSchema, "progressPercent"), 7);
    assert.equal(progressField(SleepMetadataSchema, "cancel_requested"), undefined, "not numeric");
  });
});
