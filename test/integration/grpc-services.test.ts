import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, createFileRegistry, fromBinary, getOption } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { operation_info } from "../../src/gen/google/longrunning/operations_pb.js";
import { http } from "../../src/gen/google/api/annotations_pb.js";
import { Code } from "../../src/core/code.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

describe("grpc.health.v1 and server reflection", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const check = async (service: string) => {
    const request = Buffer.from(new BinaryWriter().tag(1, 2).string(service).finish());
    const response = new BinaryReader(await t.grpc.raw("/grpc.health.v1.Health/Check", request));
    const [field] = response.tag();
    assert.equal(field, 1);
    return response.int32();
  };

  it("reports SERVING for the server and each served service; NOT_FOUND for others", async () => {
    assert.equal(await check(""), SERVING);
    assert.equal(await check("google.longrunning.Operations"), SERVING);
    assert.equal(await check("longrun.demo.v1.Demo"), SERVING);
    assert.equal((await callError(check("no.such.Service"))).code, Code.NOT_FOUND);
  });

  /** One request/response exchange on grpc.reflection.v1.ServerReflection/ServerReflectionInfo. */
  const reflect = (request: Uint8Array, version = "v1"): Promise<BinaryReader> =>
    new Promise((resolve, reject) => {
      const call = t.grpc.client.makeBidiStreamRequest(
        `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        new grpc.Metadata(),
        {},
      );
      call.on("data", (b: Buffer) => {
        resolve(new BinaryReader(b));
        call.end();
      });
      call.on("error", reject);
      call.write(Buffer.from(request));
    });

  /** The bytes of the length-delimited fields numbered `wanted` of a message. */
  function fields(message: BinaryReader | Uint8Array, wanted: number): Uint8Array[] {
    const reader = message instanceof BinaryReader ? message : new BinaryReader(message);
    const found: Uint8Array[] = [];
    while (reader.pos < reader.len) {
      const [number, type] = reader.tag();
      if (number === wanted) found.push(reader.bytes());
      else reader.skip(type);
    }
    return found;
  }

  it("lists the served services, so grpcurl needs no proto files", async () => {
    const response = await reflect(new BinaryWriter().tag(7, 2).string("").finish()); // list_services
    const [list] = fields(response, 6); // list_services_response
    assert.ok(list, "a list_services_response");
    const names = fields(list, 1).map((service) => new TextDecoder().decode(fields(service, 1)[0]));
    for (const name of ["google.longrunning.Operations", "longrun.demo.v1.Demo"]) assert.ok(names.includes(name), `${name} in ${names}`);
  });

  it("returns the descriptors of a symbol's file and its imports", async () => {
    const response = await reflect(new BinaryWriter().tag(4, 2).string("longrun.demo.v1.Demo").finish()); // file_containing_symbol
    const [files] = fields(response, 4); // file_descriptor_response
    assert.ok(files, "a file_descriptor_response");
    const protos: FileDescriptorProto[] = fields(files, 1).map((f) => fromBinary(FileDescriptorProtoSchema, f));
    const demo = protos.find((p) => p.name === "longrun/demo/v1/demo.proto");
    assert.ok(demo, `demo.proto among ${protos.map((p) => p.name)}`);
    assert.deepEqual(demo.service[0]?.method.map((m) => m.name), ["Sleep"]);
    assert.deepEqual(demo.messageType.map((m) => m.name).sort(), ["SleepMetadata", "SleepRequest", "SleepResponse"]);
    // Custom options survive: a client can read operation_info and the REST binding from them.
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: protos }));
    const sleep = registry.getService("longrun.demo.v1.Demo")!.methods[0]!;
    assert.equal(getOption(sleep, operation_info).responseType, "SleepResponse");
    assert.equal(getOption(sleep, operation_info).metadataType, "SleepMetadata");
    const rule = getOption(sleep, http);
    assert.deepEqual([rule.pattern.case, rule.pattern.value, rule.body], ["post", "/v1/demo:sleep", "*"]);
  });

  it("answers v1alpha too, and NOT_FOUND for unknown symbols", async () => {
    const response = await reflect(new BinaryWriter().tag(4, 2).string("no.such.Symbol").finish(), "v1alpha");
    const [error] = fields(response, 7); // error_response
    assert.ok(error, "an error_response");
    const reader = new BinaryReader(error);
    const [field] = reader.tag();
    assert.equal(field, 1);
    assert.equal(reader.int32(), Code.NOT_FOUND);
  });
});
