// The Route Optimization example (examples/route-optimization) against the official client library,
// @googlemaps/routeoptimization v1 (RouteOptimizationClient, google-gax 5), over gRPC and over its REST
// fallback. Offline: pass-through auth (test/compat/gax-clients.ts), insecure gRPC channel, http REST.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { fromJsonString } from "@bufbuild/protobuf";
import { v1 } from "@googlemaps/routeoptimization";
import { OptimizeToursResponseSchema } from "../../examples/route-optimization/gen/google/maps/routeoptimization/v1/route_optimization_service_pb.js";
import { routeOptimizationOptions } from "../../examples/route-optimization/server.js";
import { operationParent } from "../../examples/route-optimization/methods.js";
import { backoff, offlineAuth, rejectionOf, waitUntil } from "../compat/gax-clients.js";
import { startTestServer, type TestServer } from "../support/server.js";

const CANCELLED = 1;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const PARENT = "projects/p1/locations/us-central1";
const NAME = /^projects\/p1\/locations\/us-central1\/operations\/[A-Za-z0-9_-]+$/;
const TEST = { timeout: 60_000 };
/** Per-call options: short polling, and a total timeout so nothing can hang. */
const CALL = { longrunning: backoff, timeout: 20_000 };

type Client = InstanceType<typeof v1.RouteOptimizationClient>;
type GaxError = Error & { code?: number; reason?: string; domain?: string };

let t: TestServer;
let dir: string;

before(async () => {
  t = await startTestServer(routeOptimizationOptions);
  dir = mkdtempSync(join(tmpdir(), "route-optimization-"));
});
after(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

function grpcClient(): Client {
  const address = t.server.grpcAddress!;
  const i = address.lastIndexOf(":");
  return new v1.RouteOptimizationClient({
    apiEndpoint: address.slice(0, i),
    port: Number(address.slice(i + 1)),
    sslCreds: grpc.credentials.createInsecure(),
    auth: offlineAuth().auth,
  });
}

function restClient(): Client {
  const { hostname, port } = new URL(t.url);
  return new v1.RouteOptimizationClient({
    apiEndpoint: hostname,
    port: Number(port),
    fallback: true,
    protocol: "http",
    auth: offlineAuth({ decodeHttpErrors: true }).auth,
  });
}

let files = 0;
/** Writes `content` to a fresh file in the temp dir; returns its file:// URI. */
function file(content: string | object): string {
  const path = join(dir, `f${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return pathToFileURL(path).href;
}
function outUri(): string {
  return pathToFileURL(join(dir, `out${files++}.json`)).href;
}
function readOutput(uri: string) {
  return fromJsonString(OptimizeToursResponseSchema, readFileSync(new URL(uri), "utf8"));
}

function modelConfig(input: string, output: string) {
  return {
    displayName: `model ${input}`,
    inputConfig: { gcsSource: { uri: input }, dataFormat: "JSON" as const },
    outputConfig: { gcsDestination: { uri: output }, dataFormat: "JSON" as const },
  };
}

/** Two vehicles, three shipments: each goes to the vehicle whose route ends nearest its pickup. */
const smallModel = {
  label: "small",
  model: {
    vehicles: [
      { label: "west", startLocation: { latitude: 48.8, longitude: 2.3 } },
      { label: "east", startLocation: { latitude: 48.8, longitude: 2.5 } },
    ],
    shipments: [
      {
        label: "near-east",
        pickups: [{ arrivalLocation: { latitude: 48.81, longitude: 2.49 } }],
        deliveries: [{ arrivalLocation: { latitude: 48.82, longitude: 2.48 } }],
      },
      { label: "near-west", deliveries: [{ arrivalLocation: { latitude: 48.8, longitude: 2.31 } }] },
      { label: "nowhere" },
    ],
  },
};

/** A model big enough that many of them take a while (the cancellation test). */
function bigModel(shipments: number) {
  return {
    model: {
      vehicles: Array.from({ length: 20 }, (_, v) => ({ startLocation: { latitude: 40 + v / 10, longitude: -3 } })),
      shipments: Array.from({ length: shipments }, (_, s) => ({
        pickups: [{ arrivalLocation: { latitude: 40 + (s % 97) / 50, longitude: -3 + (s % 89) / 50 } }],
        deliveries: [{ arrivalLocation: { latitude: 40 + (s % 83) / 50, longitude: -3 + (s % 79) / 50 } }],
      })),
    },
  };
}

/** The mixin's request types are protobufjs classes; plain objects are what callers actually pass. */
function req<T>(fields: NoInfer<Partial<T>>): T {
  return fields as T;
}

function rejection(promise: Promise<unknown>): Promise<GaxError> {
  return rejectionOf<GaxError>(promise);
}

function assertSmallOutput(uri: string): void {
  const out = readOutput(uri);
  assert.equal(out.requestLabel, "small");
  assert.equal(out.routes.length, 2);
  const [west, east] = out.routes;
  assert.deepEqual(
    west!.visits.map((v) => [v.shipmentLabel, v.isPickup]),
    [["near-west", false]],
  );
  assert.deepEqual(
    east!.visits.map((v) => [v.shipmentLabel, v.isPickup]),
    [
      ["near-east", true],
      ["near-east", false],
    ],
  );
  assert.deepEqual(
    out.skippedShipments.map((s) => s.index),
    [2],
  );
  assert.equal(out.metrics?.usedVehicleCount, 2);
  assert.ok((east!.metrics?.travelDistanceMeters ?? 0) > 0);
}

describe("operationParent", () => {
  it("maps projects/{p} to projects/{p}/locations/global and leaves the rest", () => {
    assert.equal(operationParent("projects/p1"), "projects/p1/locations/global");
    assert.equal(operationParent(PARENT), PARENT);
    assert.equal(operationParent("folders/f"), "folders/f");
  });
});

describe("RouteOptimizationClient over gRPC", () => {
  let client: Client;
  before(() => {
    client = grpcClient();
  });
  after(() => client.close());

  it("batchOptimizeTours: promise() resolves, every model's output is written", TEST, async () => {
    const outputs = [outUri(), outUri()];
    const input = file(smallModel);
    const [operation] = await client.batchOptimizeTours(
      { parent: PARENT, modelConfigs: outputs.map((o) => modelConfig(input, o)) },
      CALL,
    );
    assert.match(operation.name!, NAME);
    const [response, metadata, raw] = await operation.promise();
    assert.deepEqual({ ...response }, {});
    assert.deepEqual({ ...metadata }, {});
    assert.equal(raw?.done, true);
    for (const o of outputs) assertSmallOutput(o);

    // checkBatchOptimizeToursProgress: GetOperation, wrapped as an LRO.
    const checked = await client.checkBatchOptimizeToursProgress(operation.name!);
    assert.equal(checked.name, operation.name);
    assert.equal(checked.done, true);

    // The Operations mixin: get, list (the parent), delete.
    const [got] = await client.getOperation(req({ name: operation.name! }));
    assert.equal(got.done, true);
    assert.equal(got.response?.type_url, "type.googleapis.com/google.maps.routeoptimization.v1.BatchOptimizeToursResponse");
    assert.equal(got.metadata?.type_url, "type.googleapis.com/google.maps.routeoptimization.v1.BatchOptimizeToursMetadata");
    const listed: string[] = [];
    for await (const op of client.listOperationsAsync(req({ name: PARENT, filter: "", pageSize: 1 }))) listed.push(op.name!);
    assert.ok(listed.includes(operation.name!), `${operation.name} in ${listed.join(", ")}`);
    await client.deleteOperation(req({ name: operation.name! }));
    const gone = await rejection(client.getOperation(req({ name: operation.name! })));
    assert.equal(gone.code, NOT_FOUND);
  });

  it("the projects/{p} binding names operations under locations/global", TEST, async () => {
    const output = outUri();
    const [operation] = await client.batchOptimizeTours({ parent: "projects/p2", modelConfigs: [modelConfig(file(smallModel), output)] }, CALL);
    assert.match(operation.name!, /^projects\/p2\/locations\/global\/operations\/[A-Za-z0-9_-]+$/);
    await operation.promise();
    assertSmallOutput(output);
  });

  it("a failing model fails the operation with that model's error", TEST, async () => {
    const good = outUri();
    const bad = file("{ not json");
    const [operation] = await client.batchOptimizeTours(
      { parent: PARENT, modelConfigs: [modelConfig(file(smallModel), good), modelConfig(bad, outUri())] },
      CALL,
    );
    const err = await rejection(operation.promise());
    assert.equal(err.code, INVALID_ARGUMENT, err.message);
    assert.match(err.message, /model_configs\[1\]/);
    assert.ok(err.message.includes(bad), err.message);
    assert.ok(existsSync(new URL(good)), "the model before the failing one was written");

    const missing = pathToFileURL(join(dir, "missing.json")).href;
    const [op2] = await client.batchOptimizeTours({ parent: PARENT, modelConfigs: [modelConfig(missing, outUri())] }, CALL);
    const err2 = await rejection(op2.promise());
    assert.equal(err2.code, NOT_FOUND, err2.message);
    assert.match(err2.message, /model_configs\[0\]/);
    assert.ok(err2.message.includes(missing), err2.message);
  });

  it("refuses at start what it cannot serve: gs:// URIs, PROTO_TEXT, a bad parent", TEST, async () => {
    const gcs = await rejection(client.batchOptimizeTours({ parent: PARENT, modelConfigs: [modelConfig("gs://bucket/in.json", outUri())] }, CALL));
    assert.equal(gcs.code, INVALID_ARGUMENT);
    assert.equal(gcs.domain, "routeoptimization.googleapis.com");
    assert.match(gcs.message, /model_configs\[0\]\.input_config\.gcs_source\.uri/);
    const text = await rejection(
      client.batchOptimizeTours(
        {
          parent: PARENT,
          modelConfigs: [{ ...modelConfig(file(smallModel), outUri()), outputConfig: { gcsDestination: { uri: outUri() }, dataFormat: "PROTO_TEXT" } }],
        },
        CALL,
      ),
    );
    assert.equal(text.code, INVALID_ARGUMENT);
    const none = await rejection(client.batchOptimizeTours({ parent: PARENT, modelConfigs: [] }, CALL));
    assert.equal(none.code, INVALID_ARGUMENT);
    const parent = await rejection(client.batchOptimizeTours({ parent: "folders/f", modelConfigs: [modelConfig(file(smallModel), outUri())] }, CALL));
    assert.equal(parent.code, INVALID_ARGUMENT);
  });

  it("cancelOperation stops a running batch: the operation ends CANCELLED", TEST, async () => {
    const input = file(bigModel(5000));
    const outputs = Array.from({ length: 200 }, () => outUri());
    const [operation] = await client.batchOptimizeTours({ parent: PARENT, modelConfigs: outputs.map((o) => modelConfig(input, o)) }, CALL);
    // Wait until the batch is under way (a first output exists), then cancel.
    await waitUntil(async () => existsSync(new URL(outputs[0]!)), 30_000);
    await client.cancelOperation(req({ name: operation.name! }));
    const err = await rejection(operation.promise());
    assert.equal(err.code, CANCELLED, err.message);
    const [got] = await client.getOperation(req({ name: operation.name! }));
    assert.equal(got.done, true);
    assert.equal(got.error?.code, CANCELLED);
    assert.ok(!existsSync(new URL(outputs.at(-1)!)), "the batch stopped before its last model");
  });
});

describe("RouteOptimizationClient over REST (fallback)", () => {
  let client: Client;
  before(() => {
    client = restClient();
  });
  after(() => client.close());

  it("batchOptimizeTours: start, promise(), get", TEST, async () => {
    const output = outUri();
    const [operation] = await client.batchOptimizeTours({ parent: PARENT, modelConfigs: [modelConfig(file(smallModel), output)] }, CALL);
    assert.match(operation.name!, NAME);
    const [response, , raw] = await operation.promise();
    assert.deepEqual({ ...response }, {});
    assert.equal(raw?.done, true);
    assertSmallOutput(output);

    const [got] = await client.getOperation(req({ name: operation.name! }));
    assert.equal(got.done, true);
    const checked = await client.checkBatchOptimizeToursProgress(operation.name!);
    assert.equal(checked.done, true);

    // The JSON the real service's one Operations binding answers with: done present, every Any typed.
    const res = await fetch(`${t.url}/v1/${operation.name}`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      name: operation.name,
      done: true,
      metadata: { "@type": "type.googleapis.com/google.maps.routeoptimization.v1.BatchOptimizeToursMetadata" },
      response: { "@type": "type.googleapis.com/google.maps.routeoptimization.v1.BatchOptimizeToursResponse" },
    });
  });

  it("the projects/{p} binding, and a failing model", TEST, async () => {
    const [operation] = await client.batchOptimizeTours({ parent: "projects/p3", modelConfigs: [modelConfig(file("[]"), outUri())] }, CALL);
    assert.match(operation.name!, /^projects\/p3\/locations\/global\/operations\//);
    const err = await rejection(operation.promise());
    assert.equal(err.code, INVALID_ARGUMENT, err.message);
    assert.match(err.message, /model_configs\[0\]/);
  });

  it("Operations methods other than Get are not served over REST, as with the real service", TEST, async () => {
    const [operation] = await client.batchOptimizeTours({ parent: PARENT, modelConfigs: [modelConfig(file(smallModel), outUri())] }, CALL);
    await operation.promise();
    const res = await fetch(`${t.url}/v1/${operation.name}:cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const body = (await res.json()) as { error: { status: string } };
    assert.equal(res.status, 501);
    assert.equal(body.error.status, "UNIMPLEMENTED");
  });
});
