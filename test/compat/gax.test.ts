// google-gax compatibility: the real google-gax 5 OperationsClient and long-running machinery
// (LongrunningDescriptor → Operation → promise()), over gRPC and over REST ("fallback" mode),
// against a real longrun server. No mocks: clients are built in ./gax-clients.ts the way
// generated GAPIC clients build them.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as gax from "google-gax";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { backoff, grpcClients, loadDemoRoot, rejectionOf, restClients, waitUntil, type GaxClients } from "./gax-clients.js";

type Lro = typeof gax.operationsProtos.google.longrunning;
type RawOperation = InstanceType<Lro["Operation"]>;
type ListRequest = InstanceType<Lro["ListOperationsRequest"]>;
type GaxError = gax.GoogleError & { errorInfoMetadata?: Record<string, string> };

const CANCELLED = 1;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const NAME = /^operations\/[A-Za-z0-9_-]{30}$/;
const TEST = { timeout: 30_000 };

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** gax's request types are protobufjs classes; plain objects are what callers actually pass. */
function req<T>(fields: NoInfer<Partial<T>>): T {
  return fields as T;
}

const types = loadDemoRoot();

/** Decodes an Any as gax hands it over (`type_url` + bytes) into a plain object with numbers. */
function unpack(any: { type_url?: string | null; value?: Uint8Array | null } | null | undefined, typeName: string) {
  assert.equal(any?.type_url, `type.googleapis.com/${typeName}`);
  const type = types.lookupType(typeName);
  return type.toObject(type.decode(any!.value!), { longs: Number, defaults: true }) as Record<string, any>;
}

function rejection(promise: Promise<unknown>): Promise<GaxError> {
  return rejectionOf<GaxError>(promise);
}

/** gax's error shape for NOT_FOUND: the rpc code, plus google.rpc.ErrorInfo promoted onto the error. */
function assertOperationNotFound(err: GaxError, name: string): void {
  assert.equal(err.code, NOT_FOUND, `code 5, got ${err?.constructor?.name} ${err?.code}: ${err?.message}`);
  assert.equal(err.reason, "OPERATION_NOT_FOUND");
  assert.equal(err.domain, "longrun.dev");
  assert.deepEqual({ ...err.errorInfoMetadata }, { name });
}

/** How each mode starts a Sleep without going through gax (the test's own raw clients). */
interface Mode {
  name: string;
  clients(t: TestServer): Promise<GaxClients>;
  startSleep(t: TestServer, ms: number): Promise<string>;
}

const modes: Mode[] = [
  {
    name: "gRPC",
    clients: (t) => grpcClients(t.server.grpcAddress!),
    startSleep: async (t, ms) => (await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(ms) })).name,
  },
  {
    name: "REST fallback",
    clients: (t) => restClients(t.url),
    startSleep: async (t, ms) => {
      const res = await fetch(`${t.url}/v1/demo:sleep`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ duration: `${ms / 1000}s` }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { name: string }).name;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("google-gax compatibility", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  for (const mode of modes) {
    describe(`${mode.name}: OperationsClient`, () => {
      let c: GaxClients;
      before(async () => {
        c = await mode.clients(t);
      });
      after(() => c.close());

      const get = async (name: string) => (await c.operations.getOperation(req({ name })))[0];
      const doneOperation = async (name: string) => {
        let op: RawOperation | undefined;
        await waitUntil(async () => Boolean((op = await get(name)).done));
        return op!;
      };

      it("works offline: the first call completes promptly (no ADC or metadata-server lookup)", { timeout: 5_000 }, async () => {
        const fresh = await mode.clients(t);
        try {
          const started = Date.now();
          const err = await rejection(fresh.operations.getOperation(req({ name: "operations/AAAAAAAAAAAAAAAAAAAAAA" })));
          assert.equal(err.code, NOT_FOUND);
          assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
        } finally {
          await fresh.close();
        }
      });

      it("getOperation returns a running operation with decodable metadata", TEST, async () => {
        const name = await mode.startSleep(t, 60_000);
        try {
          const op = await get(name);
          assert.equal(op.name, name);
          assert.match(op.name, NAME);
          assert.equal(op.done, false);
          assert.equal(op.result, undefined, "neither response nor error while running");
          const metadata = unpack(op.metadata, "longrun.demo.v1.SleepMetadata");
          assert.ok(metadata.createTime.seconds > 0, "create_time is set");
        } finally {
          await c.operations.cancelOperation(req({ name }));
        }
      });

      it("getOperation returns a finished operation with its packed response", TEST, async () => {
        const name = await mode.startSleep(t, 100);
        const op = await doneOperation(name);
        assert.equal(op.result, "response");
        assert.deepEqual(unpack(op.response, "longrun.demo.v1.SleepResponse"), { slept: { seconds: 0, nanos: 100_000_000 } });
        assert.equal(unpack(op.metadata, "longrun.demo.v1.SleepMetadata").progressPercent, 100);
        assert.ok(!op.error, "no error beside the response");
      });

      it("listOperations filters on done = true", TEST, async () => {
        const running = await mode.startSleep(t, 60_000);
        const finished = await mode.startSleep(t, 0);
        await doneOperation(finished);
        try {
          const [ops] = (await c.operations.listOperations(req<ListRequest>({ name: "operations", filter: "done = true" }))) as unknown as [
            RawOperation[],
          ];
          assert.ok(ops.length > 0);
          assert.ok(ops.every((op) => op.done === true), "only done operations");
          const names = ops.map((op) => op.name);
          assert.ok(names.includes(finished));
          assert.ok(!names.includes(running));
          const listed = ops.find((op) => op.name === finished)!;
          assert.deepEqual(listed, await get(finished), "listed operations are complete, as Get returns them");
        } finally {
          await c.operations.cancelOperation(req({ name: running }));
        }
      });

      it("listOperations pages: pageSize is honoured and auto-pagination yields each operation once", TEST, async () => {
        const created: string[] = [];
        for (let i = 0; i < 7; i++) created.push(await mode.startSleep(t, 0));
        for (const name of created) await doneOperation(name);
        const request = req<ListRequest>({ name: "operations", filter: "done = true", pageSize: 3 });

        const [page, next, raw] = (await c.operations.listOperations(request, { autoPaginate: false })) as unknown as [
          RawOperation[],
          ListRequest | null,
          { nextPageToken: string },
        ];
        assert.equal(page.length, 3);
        assert.ok(raw.nextPageToken, "a next page token while there are more");
        assert.equal(next?.pageToken, raw.nextPageToken);

        const seen: string[] = [];
        for await (const op of c.operations.listOperationsAsync(request, { autoPaginate: false })) seen.push(op.name!);
        assert.equal(new Set(seen).size, seen.length, `no operation twice: ${seen.join(", ")}`);
        for (const name of created) assert.ok(seen.includes(name), `${name} was listed`);
        assert.ok(seen.length >= 7);

        const [all] = (await c.operations.listOperations(request)) as unknown as [RawOperation[]];
        assert.deepEqual(all.map((op) => op.name).sort(), [...seen].sort(), "listOperations auto-paginates to the same set");

        // gax's paging stream starts on 'resume' (flowing mode), so it is read with on("data"), not for-await.
        const streamed = await new Promise<string[]>((resolve, reject) => {
          const names: string[] = [];
          c.operations
            .listOperationsStream(request)
            .on("data", (op: RawOperation) => names.push(op.name))
            .on("error", reject)
            .on("end", () => resolve(names));
        });
        assert.deepEqual(streamed.sort(), [...seen].sort(), "listOperationsStream yields the same set");
      });

      it("an unsupported filter fails INVALID_ARGUMENT with ErrorInfo and BadRequest decoded", TEST, async () => {
        const err = await rejection(c.operations.listOperations(req<ListRequest>({ name: "operations", filter: "foo = bar" })));
        assert.equal(err.code, 3);
        assert.equal(err.reason, "INVALID_FILTER");
        assert.equal(err.domain, "longrun.dev");
        const details = (err.statusDetails ?? []) as object[];
        const badRequest = details.find((d) => "fieldViolations" in d) as
          | { fieldViolations: { field: string; description: string }[] }
          | undefined;
        assert.equal(badRequest?.fieldViolations[0]?.field, "filter");
      });

      it("cancelOperation ends a running operation with error.code = 1 (CANCELLED)", TEST, async () => {
        const name = await mode.startSleep(t, 60_000);
        await waitUntil(async () => unpack((await get(name)).metadata, "longrun.demo.v1.SleepMetadata").progressPercent > 0);
        await c.operations.cancelOperation(req({ name }));
        const op = await doneOperation(name);
        assert.equal(op.result, "error");
        assert.equal(op.error?.code, CANCELLED);
        assert.equal(unpack(op.metadata, "longrun.demo.v1.SleepMetadata").cancelRequested, true);
        await c.operations.cancelOperation(req({ name })); // cancelling a done operation is a no-op
        assert.deepEqual(await get(name), op);
      });

      it("deleteOperation: a later getOperation fails NOT_FOUND with ErrorInfo promoted", TEST, async () => {
        const name = await mode.startSleep(t, 0);
        await doneOperation(name);
        await c.operations.deleteOperation(req({ name }));
        assertOperationNotFound(await rejection(get(name)), name);
        assertOperationNotFound(await rejection(c.operations.deleteOperation(req({ name }))), name);
        assertOperationNotFound(await rejection(c.operations.cancelOperation(req({ name }))), name);
      });
    });

    describe(`${mode.name}: long-running calls (Sleep through gax)`, () => {
      let c: GaxClients;
      before(async () => {
        c = await mode.clients(t);
      });
      after(() => c.close());

      it("promise() polls to completion and resolves [response, metadata, rawOperation]", TEST, async () => {
        const [operation, initial] = await c.sleep({ duration: { nanos: 200_000_000 } });
        assert.match(operation.name!, NAME);
        assert.equal((initial as RawOperation).done, false);
        const progress: number[] = [];
        operation.on("progress", (metadata: { progressPercent: number }) => progress.push(metadata.progressPercent));

        const [response, metadata, raw] = (await operation.promise()) as [any, any, RawOperation];
        assert.equal(Number(response.slept.seconds ?? 0), 0);
        assert.equal(response.slept.nanos, 200_000_000);
        assert.equal(metadata.progressPercent, 100);
        assert.ok(metadata.endTime, "end_time set");
        assert.equal(raw.done, true);
        assert.equal(raw.name, operation.name);
        assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!), `progress never goes back: ${progress}`);
      });

      it("promise() rejects with the operation's status when the handler fails", TEST, async () => {
        const [operation] = await c.sleep({ duration: { nanos: 10_000_000 }, failWith: { code: FAILED_PRECONDITION, message: "the bucket is gone" } });
        const err = await rejection(operation.promise());
        assert.ok(err instanceof gax.GoogleError);
        assert.equal(err.code, FAILED_PRECONDITION);
        assert.equal(err.message, "the bucket is gone");
      });

      it("operation.cancel() cancels the run: promise() rejects CANCELLED with the server's status", TEST, async () => {
        const [operation] = await c.sleep({ duration: { seconds: 60 } });
        const name = operation.name!;
        await waitUntil(async () => {
          const [op] = await c.operations.getOperation(req({ name }));
          return unpack(op.metadata, "longrun.demo.v1.SleepMetadata").progressPercent > 0;
        });
        await operation.cancel(); // before polling starts, so no in-flight poll is aborted client-side
        const err = await rejection(operation.promise());
        assert.equal(err.code, CANCELLED);
        assert.equal(err.message, "The operation was cancelled.");
        const [op] = await c.operations.getOperation(req({ name }));
        assert.equal(op.done, true);
        assert.equal(op.error?.code, CANCELLED);
      });

      it("an operation can be resumed by name (what generated checkXxxProgress() does)", TEST, async () => {
        const name = await mode.startSleep(t, 150);
        const [raw] = await c.operations.getOperation(req({ name }));
        const response = types.lookupType(".longrun.demo.v1.SleepResponse");
        const metadata = types.lookupType(".longrun.demo.v1.SleepMetadata");
        const descriptor = new gax.LongrunningDescriptor(c.operations, response.decode.bind(response), metadata.decode.bind(metadata));
        const operation = gax.operation(raw, descriptor, backoff);
        const [result] = (await operation.promise()) as [any];
        assert.equal(result.slept.nanos, 150_000_000);
      });
    });
  }

  describe("REST fallback: URLs and gax-version specifics", () => {
    it("gax's bundled rules: GetOperation is GET /v1/operations/{name} with the name's '/' escaped", TEST, async () => {
      const c = await restClients(t.url);
      try {
        const [operation] = await c.sleep({ duration: { nanos: 50_000_000 } });
        await operation.promise();
        const id = operation.name!.slice("operations/".length);
        await c.operations.listOperations(req<ListRequest>({ name: "operations", filter: "done = true", pageSize: 1 }), { autoPaginate: false });
        await c.operations.cancelOperation(req({ name: operation.name! }));
        await c.operations.deleteOperation(req({ name: operation.name! }));
        const paths = c.requests.map((r) => r.replace(t.url, "").replace(/\?$/, ""));
        assert.equal(paths[0], "POST /v1/demo:sleep?$alt=json%3Benum-encoding=int", "Sleep as a generated REST client sends it");
        assert.ok(paths.includes(`GET /v1/operations/operations%2F${id}`), `bundled GetOperation URL in ${paths.join(", ")}`);
        assert.ok(paths.includes("GET /v1/operations?filter=done%20%3D%20true&pageSize=1"), paths.join(", "));
        assert.ok(paths.includes(`POST /v1/operations/${id}:cancel`), paths.join(", "));
        assert.ok(paths.includes(`DELETE /v1/operations/${id}`), paths.join(", "));
      } finally {
        await c.close();
      }
    });

    it("a generated client's own protos (upstream rules): GET /v1/{name=operations/**}, full LRO flow", TEST, async () => {
      const c = await restClients(t.url, { protoJson: loadDemoRoot() });
      try {
        const [operation] = await c.sleep({ duration: { nanos: 50_000_000 } });
        const [response] = (await operation.promise()) as [any];
        assert.equal(response.slept.nanos, 50_000_000);
        const paths = c.requests.map((r) => r.replace(t.url, "").replace(/\?$/, ""));
        assert.ok(paths.includes(`GET /v1/${operation.name}`), paths.join(", "));
        const name = "operations/AAAAAAAAAAAAAAAAAAAAAA";
        assertOperationNotFound(await rejection(c.operations.getOperation(req({ name }))), name);
      } finally {
        await c.close();
      }
    });

    it("gax 5.0.8 as shipped (gaxios rejects non-2xx first): the error still carries the AIP-193 envelope", TEST, async () => {
      const c = await restClients(t.url, { decodeHttpErrors: false });
      const name = "operations/AAAAAAAAAAAAAAAAAAAAAA";
      try {
        const err = (await rejection(c.operations.getOperation(req({ name })))) as GaxError & { status?: number };
        if (err instanceof gax.GoogleError && err.code === NOT_FOUND) {
          assertOperationNotFound(err, name); // a gax that decodes REST errors itself
        } else {
          assert.equal(err.status, 404, "GaxiosError with the HTTP status");
          const parsed = gax.GoogleError.parseHttpError(JSON.parse(err.message)) as GaxError;
          assertOperationNotFound(parsed, name);
        }
      } finally {
        await c.close();
      }
    });
  });
});
