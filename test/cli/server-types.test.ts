import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { LongrunClient } from "longrun/client";
import { file_google_longrunning_operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { ServerTypes } from "../../src/cli/server-types.js";
import { CliError } from "../../src/cli/exit.js";

/** acme/v1/jobs.proto: Jobs { Sleep, Export } and Other { Sleep }, all returning Operation. */
const acme = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "acme/v1/jobs.proto",
    package: "acme.v1",
    syntax: "proto3",
    dependency: ["google/longrunning/operations.proto"],
    messageType: [{ name: "Req" }],
    service: [
      {
        name: "Jobs",
        method: [
          { name: "Sleep", inputType: ".acme.v1.Req", outputType: ".google.longrunning.Operation" },
          { name: "Export", inputType: ".acme.v1.Req", outputType: ".google.longrunning.Operation" },
          { name: "Peek", inputType: ".acme.v1.Req", outputType: ".acme.v1.Req" },
        ],
      },
      { name: "Other", method: [{ name: "Sleep", inputType: ".acme.v1.Req", outputType: ".google.longrunning.Operation" }] },
    ],
  }),
  (name) => (name === "google/longrunning/operations.proto" ? file_google_longrunning_operations : undefined),
);

describe("method names on the command line", () => {
  const client = new LongrunClient({ server: "127.0.0.1:1", transport: "rest", registry: acme });
  const types = new ServerTypes(client, undefined, acme);
  after(() => client.close());
  const full = async (query: string) => {
    const m = await types.findMethod(query);
    return `${m.parent.typeName}.${m.name}`;
  };

  it("resolves full names, slash names and case-insensitive suffixes", async () => {
    assert.equal(await full("acme.v1.Jobs.Sleep"), "acme.v1.Jobs.Sleep");
    assert.equal(await full("acme.v1.Other/Sleep"), "acme.v1.Other.Sleep");
    assert.equal(await full("jobs.sleep"), "acme.v1.Jobs.Sleep");
    assert.equal(await full("Export"), "acme.v1.Jobs.Export");
  });

  it("refuses an ambiguous name, naming the candidates, and a method that is not long-running", async () => {
    await assert.rejects(types.findMethod("Sleep"), (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.match(e.message, /"Sleep" is ambiguous: it could be acme\.v1\.Jobs\.Sleep, acme\.v1\.Other\.Sleep/);
      return true;
    });
    await assert.rejects(types.findMethod("Peek"), /no served long-running method matches "Peek".*server reflection is gRPC only/);
  });
});
