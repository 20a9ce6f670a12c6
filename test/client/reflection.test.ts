import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { LongrunClient, ServerReflection } from "longrun/client";
import { startTestServer, type TestServer } from "../support/server.js";

describe("ServerReflection (the client side of grpc.reflection)", () => {
  let t: TestServer;
  let channel: grpc.Client;
  before(async () => {
    t = await startTestServer();
    channel = new grpc.Client(t.server.grpcAddress!, grpc.credentials.createInsecure());
  });
  after(async () => {
    channel.close();
    await t.close();
  });

  it("lists the served services and builds a registry of their files and imports", async () => {
    const reflection = new ServerReflection(channel);
    const services = await reflection.listServices();
    assert.ok(services.includes("longrun.demo.v1.Demo"), String(services));
    assert.ok(services.includes("google.longrunning.Operations"));
    const registry = await reflection.registry(["longrun.demo.v1.Demo"]);
    assert.deepEqual(registry.getService("longrun.demo.v1.Demo")?.methods.map((m) => m.name), ["Sleep"]);
    for (const type of ["longrun.demo.v1.SleepMetadata", "google.longrunning.Operation", "google.rpc.Status", "google.protobuf.Duration"]) {
      assert.ok(registry.getMessage(type), type);
    }
  });

  it("a method found by reflection can be started, with no generated code for it", async () => {
    const registry = await new ServerReflection(channel).registry(["longrun.demo.v1.Demo"]);
    const sleep = registry.getService("longrun.demo.v1.Demo")!.methods[0]!;
    assert.equal(sleep.methodKind, "unary");
    const client = new LongrunClient({ server: t.server.grpcAddress!, registry });
    try {
      const op = await client.start(sleep as typeof sleep & { methodKind: "unary" }, { duration: durationFromMs(20) });
      const response = await op.result();
      assert.equal(response.$typeName, "longrun.demo.v1.SleepResponse");
    } finally {
      client.close();
    }
  });

  it("an unknown symbol is NOT_FOUND", async () => {
    await assert.rejects(new ServerReflection(channel).registry(["no.such.Thing"]), (e: { code?: number }) => e.code === 5);
  });
});
