/**
 * The Storage Transfer example's JSON filter dialect (examples/storage-transfer/filter.ts), a plug-in written
 * against longrun's public API: its errors (each naming the key), its equivalence with the
 * AIP-160 filter saying the same thing (on the evaluator), and the same results from both stores.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, createFileRegistry, toJson, type DescMessage } from "@bufbuild/protobuf";
import { FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as Type, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { aip160Dialect, buildFilterSchema, compileFilter, DEFAULT_FILTER_LIMITS, evaluate, type FilterDialect } from "../../src/index.js";
import { transferJsonDialect, transferListScope } from "../../examples/storage-transfer/filter.js";
import { RpcError } from "../../src/core/errors.js";
import { Code } from "../../src/core/code.js";
import type { ListedOperation, StoredAny } from "../../src/store/store.js";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer } from "../support/server.js";
import { fill, listAll, openStorePair, T, type OperationPlan, type StorePair } from "../filter/stores.js";

// package longrun.transfertest.v1;
// enum Status { STATUS_UNSPECIFIED = 0; IN_PROGRESS = 1; PAUSED = 2; SUCCESS = 3; FAILED = 4; ABORTED = 5; QUEUED = 6; SUSPENDING = 7; }
// message TransferOperation { string project_id = 1; string transfer_job_name = 2; Status status = 3; string state = 4; int32 attempts = 5; repeated string tags = 6; }
const PKG = "longrun.transfertest.v1";
const field = (name: string, number: number, type: Type, extra: object = {}) => ({
  name,
  number,
  type,
  label: Label.OPTIONAL,
  jsonName: name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  ...extra,
});
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "longrun/transfertest/v1/transfertest.proto",
    package: PKG,
    syntax: "proto3",
    enumType: [
      {
        name: "Status",
        value: ["STATUS_UNSPECIFIED", "IN_PROGRESS", "PAUSED", "SUCCESS", "FAILED", "ABORTED", "QUEUED", "SUSPENDING"].map((name, number) => ({ name, number })),
      },
    ],
    messageType: [
      {
        name: "TransferOperation",
        field: [
          field("project_id", 1, Type.STRING),
          field("transfer_job_name", 2, Type.STRING),
          field("status", 3, Type.ENUM, { typeName: `.${PKG}.Status` }),
          field("state", 4, Type.STRING),
          field("attempts", 5, Type.INT32),
          field("tags", 6, Type.STRING, { label: Label.REPEATED }),
        ],
      },
    ],
  }),
  () => undefined,
);
const TransferOperationSchema: DescMessage = registry.getMessage(`${PKG}.TransferOperation`)!;
const URL = `type.googleapis.com/${PKG}.TransferOperation`;
const schema = buildFilterSchema([TransferOperationSchema]);
const dialect = transferJsonDialect();

function meta(init: Record<string, unknown>): StoredAny {
  const json = toJson(TransferOperationSchema, create(TransferOperationSchema, init as never), { registry, useProtoFieldName: true, alwaysEmitImplicit: true });
  return { typeUrl: URL, value: new Uint8Array([1]), json: JSON.stringify(json) };
}

const plan = (id: string, createAt: number, init: Record<string, unknown>): OperationPlan => ({
  id,
  name: `transferOperations/${id}`,
  method: "google.storagetransfer.v1.StorageTransferService.RunTransferJob",
  createAt,
  fate: "queued",
  claimed: false,
  metadata: meta(init),
});

// Created at T + createAt ms; T is 2023-11-14T22:13:20Z.
const PLANS: OperationPlan[] = [
  plan("job-a-1", 0, { projectId: "p1", transferJobName: "transferJobs/a", status: 1, state: "IN_PROGRESS" }),
  plan("job-a-2", 1000, { projectId: "p1", transferJobName: "transferJobs/a", status: 3, state: "SUCCESS" }),
  plan("job-b-1", 2000, { projectId: "p1", transferJobName: "transferJobs/b", status: 4, state: "FAILED" }),
  plan("job-c-1", 3000, { projectId: "p2", transferJobName: "transferJobs/c", status: 1, state: "IN_PROGRESS" }),
  plan("other-1", 4000, { projectId: "p1", transferJobName: "otherJobs/x", status: 5, state: "ABORTED" }),
];
const at = (ms: number) => new Date(T + ms).toISOString();

/** [JSON filter, the AIP-160 filter meaning the same, the ids it matches (newest first)]. */
const EQUIVALENT: [string, string, string[]][] = [
  ['{"projectId": "p1"}', 'metadata.project_id = "p1"', ["other-1", "job-b-1", "job-a-2", "job-a-1"]],
  [
    '{"projectId": "p1", "operationNames": ["transferOperations/job-a-1", "transferOperations/job-c-1", "transferOperations/other-1"]}',
    'metadata.project_id = "p1" AND (name = "transferOperations/job-a-1" OR name = "transferOperations/job-c-1" OR name = "transferOperations/other-1")',
    ["other-1", "job-a-1"],
  ],
  ['{"projectId": "p1", "operationNamePattern": "transferOperations/job-*"}', 'metadata.project_id = "p1" AND name = "transferOperations/job-*"', ["job-b-1", "job-a-2", "job-a-1"]],
  ['{"projectId": "p1", "operationNamePattern": "*-2"}', 'metadata.project_id = "p1" AND name = "*-2"', ["job-a-2"]],
  ['{"projectId": "p1", "operationNamePattern": "*ob-a*"}', 'metadata.project_id = "p1" AND name = "*ob-a*"', ["job-a-2", "job-a-1"]],
  ['{"projectId": "p1", "operationNamePattern": "*"}', 'metadata.project_id = "p1"', ["other-1", "job-b-1", "job-a-2", "job-a-1"]],
  [
    '{"projectId": "p1", "jobNames": ["transferJobs/a", "transferJobs/b"], "transferStatuses": ["in_progress", "Failed"]}',
    'metadata.project_id = "p1" AND (metadata.transfer_job_name = "transferJobs/a" OR metadata.transfer_job_name = "transferJobs/b") AND (metadata.status = IN_PROGRESS OR metadata.status = FAILED)',
    ["job-b-1", "job-a-1"],
  ],
  ['{"projectId": "p2", "jobNamePattern": "transferJobs/*"}', 'metadata.project_id = "p2" AND metadata.transfer_job_name = "transferJobs/*"', ["job-c-1"]],
  [
    `{"projectId": "p1", "minCreationTime": "${at(1000)}", "maxCreationTime": "${at(2000)}"}`,
    `metadata.project_id = "p1" AND create_time >= "${at(1000)}" AND create_time <= "${at(2000)}"`,
    ["job-b-1", "job-a-2"],
  ],
  ['{"projectId": "p1", "jobNamePattern": "transferJobs/a", "transferStatuses": ["SUCCESS"]}', 'metadata.project_id = "p1" AND metadata.transfer_job_name = "transferJobs/a" AND metadata.status = SUCCESS', ["job-a-2"]],
];

/** Asserts INVALID_ARGUMENT, reason INVALID_FILTER, a violation on `filter`, and a message containing `mentions`. */
function assertInvalid(run: () => unknown, mentions: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof RpcError, String(error));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.equal(error.reason, "INVALID_FILTER");
    assert.equal(error.metadata.field, "filter");
    assert.ok(error.message.includes(mentions), `${JSON.stringify(error.message)} should mention ${JSON.stringify(mentions)}`);
    return true;
  });
}

describe("transferJsonDialect: errors", () => {
  const cases: [string, string][] = [
    ["{", "not valid JSON"],
    ["[1]", "JSON object"],
    ['"p1"', "JSON object"],
    ["{}", "projectId is required"],
    ['{"jobNames": ["x"]}', "projectId is required"],
    ['{"projectId": 1}', "projectId must be a string"],
    ['{"projectId": null}', "projectId must be a string"],
    ['{"projectId": ""}', "projectId must not be empty"],
    ['{"projectId": "p", "project": "p"}', 'unknown key "project"'],
    ['{"projectId": "p", "jobNames": "transferJobs/a"}', "jobNames must be an array"],
    ['{"projectId": "p", "jobNames": []}', "jobNames must not be empty"],
    ['{"projectId": "p", "operationNames": ["a", 2]}', "operationNames[1] must be a string"],
    ['{"projectId": "p", "jobNamePattern": ["a*"]}', "jobNamePattern must be a string"],
    ['{"projectId": "p", "operationNamePattern": "a*b"}', "operationNamePattern"],
    ['{"projectId": "p", "jobNamePattern": "*a*b*"}', "jobNamePattern"],
    ['{"projectId": "p", "minCreationTime": "yesterday"}', "minCreationTime"],
    ['{"projectId": "p", "maxCreationTime": "2024-01-01"}', "maxCreationTime"],
    ['{"projectId": "p", "transferStatuses": ["RUNNING"]}', "transferStatuses"],
    ['{"projectId": "p", "transferStatuses": "SUCCESS"}', "transferStatuses must be an array"],
  ];
  for (const [filter, mentions] of cases) {
    it(`${filter} → ${mentions}`, () => assertInvalid(() => dialect(filter, schema), mentions));
  }

  it("type-checks the configured metadata fields against the schema", () => {
    assertInvalid(() => transferJsonDialect({ projectField: "project" })('{"projectId": "p"}', schema), "projectId restricts metadata.project");
    assertInvalid(() => transferJsonDialect({ projectField: "attempts" })('{"projectId": "p"}', schema), "not a string");
    assertInvalid(() => transferJsonDialect({ jobField: "tags" })('{"projectId": "p", "jobNames": ["j"]}', schema), "jobNames restricts metadata.tags, a repeated field");
    assertInvalid(() => transferJsonDialect({ statusField: "attempts" })('{"projectId": "p", "transferStatuses": ["PAUSED"]}', schema), "not an enum or a string");
    assertInvalid(() => dialect('{"projectId": "p"}', buildFilterSchema([])), "projectId");
  });

  it("bounds the filter as AIP-160 filters are bounded: length, and values in all", () => {
    const names = (n: number) => JSON.stringify({ projectId: "p", operationNames: Array.from({ length: n }, (_, i) => `transferOperations/o${i}`) });
    assert.ok(dialect(names(49), schema), "49 names and the project: 50 values");
    assertInvalid(() => dialect(names(50), schema), "limit of 50 values");
    assertInvalid(() => dialect(JSON.stringify({ projectId: "p".repeat(2100) }), schema), "limit of 2000 characters");
  });

  it("reads the empty filter as no filter", () => {
    assert.equal(dialect("", schema), undefined);
    assert.equal(dialect("  ", schema), undefined);
  });

  it("AIP-160 is the default dialect, compileFilter as it was", () => {
    assert.deepEqual(aip160Dialect('name = "a*"', schema), compileFilter('name = "a*"', schema));
  });
});

describe("transferListScope: the project a list is about", () => {
  const scope = transferListScope();
  const of = (filter: string) => scope(create(Operations.method.listOperations.input, { name: "transferOperations", filter }));

  it("is the filter's projectId as a project name, whatever else the filter says", () => {
    assert.equal(of('{"projectId": "p1"}'), "projects/p1");
    assert.equal(of('{"jobNames": ["transferJobs/1"], "projectId": "my-project", "transferStatuses": ["SUCCESS"]}'), "projects/my-project");
    // Read, not checked: the dialect refuses what it refuses, after the guard.
    assert.equal(of('{"projectId": "p1", "unknown": 1}'), "projects/p1");
  });

  it("is undefined for a filter naming no project: empty, not JSON, not an object, projectId absent, empty or not a string, too long", () => {
    for (const filter of ["", "  ", "{", "[1]", '"p1"', "null", "{}", '{"projectId": ""}', '{"projectId": 1}', '{"projectId": ["p1"]}', '{"projectId": null}']) {
      assert.equal(of(filter), undefined, filter);
    }
    assert.equal(of(JSON.stringify({ projectId: "p".repeat(2100) })), undefined, "over the dialect's length limit: not even parsed");
    assert.equal(transferListScope({ limits: { ...DEFAULT_FILTER_LIMITS, maxLength: 10 } })(create(Operations.method.listOperations.input, { filter: '{"projectId": "p1"}' })), undefined);
  });
});

describe("transferJsonDialect: same results as AIP-160, on the evaluator and both stores", () => {
  let pair: StorePair;
  let records: ListedOperation[];
  let json: Map<string, string | undefined>;
  const matching = (expr: ReturnType<typeof dialect>) =>
    records
      .filter((r) => {
        const metadata = json.get(r.id);
        return evaluate(expr!, r, metadata === undefined ? undefined : JSON.parse(metadata));
      })
      .map((r) => r.id);

  before(async () => {
    pair = await openStorePair();
    for (const { store } of pair.stores) json = await fill(store, PLANS);
    records = await listAll(pair.stores[0]!.store, undefined);
    assert.equal(records.length, PLANS.length);
  });
  after(async () => {
    await pair?.close();
  });

  for (const [filter, aip160, expected] of EQUIVALENT) {
    it(filter, async () => {
      const expr = dialect(filter, schema);
      assert.deepEqual(matching(expr), expected, "JSON dialect, evaluator");
      assert.deepEqual(matching(compileFilter(aip160, schema)), expected, "AIP-160, evaluator");
      for (const { name, store } of pair.stores) {
        assert.deepEqual(
          (await listAll(store, expr, 2)).map((r) => r.id),
          expected,
          name,
        );
      }
    });
  }

  it("a string status field compares upper-cased names", async () => {
    const expr = transferJsonDialect({ statusField: "state" })('{"projectId": "p1", "transferStatuses": ["success", "aborted"]}', schema);
    assert.deepEqual(matching(expr), ["other-1", "job-a-2"]);
    for (const { name, store } of pair.stores) assert.deepEqual((await listAll(store, expr)).map((r) => r.id), ["other-1", "job-a-2"], name);
  });
});

describe("filterDialect and filterRequired through the server", () => {
  it("uses the configured dialect, and refuses an empty filter when required", async () => {
    // JSON objects in the transfer dialect, anything else AIP-160; the demo's SleepMetadata has no project_id.
    const json = transferJsonDialect();
    const mixed: FilterDialect = (filter, schema) => (filter.trimStart().startsWith("{") ? json(filter, schema) : aip160Dialect(filter, schema));
    const t = await startTestServer({ filterDialect: mixed, filterRequired: true, worker: false });
    try {
      const list = (filter: string) => t.grpc.call(Operations.method.listOperations, { name: "operations", filter });
      assert.deepEqual((await list("done = true")).operations, []);
      for (const [filter, message] of [
        ["", "filter: filter is required"],
        ["  ", "filter: filter is required"],
        ['{"projectId": "p", "x": 1}', 'unknown key "x"'],
        ['{"projectId": "p"}', "projectId restricts metadata.project_id"],
      ]) {
        const err = await callError(list(filter!));
        assert.equal(err.code, Code.INVALID_ARGUMENT, filter);
        assert.equal(err.errorInfo?.reason, "INVALID_FILTER", filter);
        assert.ok(err.details.includes(message!), `${err.details} should include ${message}`);
      }
    } finally {
      await t.close();
    }
  });
});
