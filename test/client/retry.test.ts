import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { create } from "@bufbuild/protobuf";
import { CallFailedError, Code, LongrunClient } from "longrun/client";
import { OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { startPlainGrpcServer, startPlainRestServer, type Behaviour } from "./plain-servers.js";

/** UNAVAILABLE `failures` times, then a done operation. */
const flaky =
  (failures: number, code = Code.UNAVAILABLE): Behaviour =>
  (name, polls) =>
    polls < failures ? { fail: code, message: `try again (${polls})` } : create(OperationSchema, { name, done: true });

const retry = { initialBackoffMs: 5, maxBackoffMs: 20, maxAttempts: 4 };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const transport of ["grpc", "rest"] as const) {
  describe(`retries over ${transport}`, () => {
    const start = (b: Behaviour) => (transport === "grpc" ? startPlainGrpcServer(b) : startPlainRestServer(b));

    it("retries UNAVAILABLE with backoff, then succeeds", async () => {
      const server = await start(flaky(2));
      const client = new LongrunClient({ server: server.address, transport, retry });
      try {
        const op = await client.get("operations/flaky");
        assert.equal(op.done, true);
        assert.equal(server.calls.get("GetOperation"), 3);
      } finally {
        client.close();
        await server.close();
      }
    });

    it("gives up after maxAttempts with the last UNAVAILABLE", async () => {
      const server = await start(flaky(10));
      const client = new LongrunClient({ server: server.address, transport, retry });
      try {
        await assert.rejects(client.get("operations/down"), (e: unknown) => e instanceof CallFailedError && e.code === Code.UNAVAILABLE);
        assert.equal(server.calls.get("GetOperation"), 4);
      } finally {
        client.close();
        await server.close();
      }
    });

    it("does not retry other codes, nor when told not to", async () => {
      const server = await start(flaky(10, Code.NOT_FOUND));
      const client = new LongrunClient({ server: server.address, transport, retry });
      try {
        await assert.rejects(client.get("operations/gone"), (e: unknown) => e instanceof CallFailedError && e.code === Code.NOT_FOUND);
        assert.equal(server.calls.get("GetOperation"), 1);
      } finally {
        client.close();
        await server.close();
      }
      const unavailable = await start(flaky(10));
      const once = new LongrunClient({ server: unavailable.address, transport, retry: false });
      try {
        await assert.rejects(once.get("operations/x"), (e: unknown) => e instanceof CallFailedError && e.code === Code.UNAVAILABLE);
        assert.equal(unavailable.calls.get("GetOperation"), 1);
      } finally {
        once.close();
        await unavailable.close();
      }
    });

    it("a server that cannot be reached is UNAVAILABLE (after the retries)", async () => {
      const port = await closedPort();
      const client = new LongrunClient({ server: `127.0.0.1:${port}`, transport, retry: { ...retry, maxAttempts: 2 } });
      try {
        await assert.rejects(client.get("operations/x"), (e: unknown) => e instanceof CallFailedError && e.code === Code.UNAVAILABLE);
      } finally {
        client.close();
      }
    });

    it("an AbortSignal stops the retries", async () => {
      const server = await start(flaky(1000));
      const client = new LongrunClient({ server: server.address, transport, retry: { initialBackoffMs: 1000, maxBackoffMs: 1000, maxAttempts: 100 } });
      try {
        const controller = new AbortController();
        const call = client.get("operations/x", { signal: controller.signal });
        setTimeout(() => controller.abort(new Error("stop retrying")), 50);
        await assert.rejects(call, /stop retrying/);
      } finally {
        client.close();
        await server.close();
      }
    });
  });
}
