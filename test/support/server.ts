import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { startServer, type LongrunServer, type ServerOptions } from "../../src/server.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { TestGrpcClient } from "./grpc-client.js";

export interface TestServer {
  server: LongrunServer;
  grpc: TestGrpcClient;
  /** REST base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  dbPath: string;
  /** What the server logged (failures that are bugs, or that the runtime worked around), oldest first. */
  logged: string[];
  close(): Promise<void>;
}

/** A real server on a fresh SQLite file, on free loopback ports, serving the demo unless told otherwise. */
export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-test-"));
  const dbPath = join(dir, "longrun.db");
  const logged: string[] = [];
  const server = await startServer({
    store: SqliteStore.open(dbPath),
    methods: demoMethods,
    grpc: { host: "127.0.0.1", port: 0 },
    http: { host: "127.0.0.1", port: 0 },
    log: (message: string, err?: unknown) => logged.push(err === undefined ? message : `${message}: ${String(err)}`),
    ...options,
  });
  const grpc = new TestGrpcClient(server.grpcAddress ?? "");
  return {
    server,
    grpc,
    url: server.httpUrl ?? "",
    dbPath,
    logged,
    close: async () => {
      grpc.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
