import { pathToFileURL } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { openStore, startServer, type ServerOptions } from "../../src/index.js";

export interface ExampleOptions<Extra extends string> {
  /** Printed before each line, e.g. "route-optimization". */
  name: string;
  /** The store when neither --store nor LONGRUN_STORE is given. */
  defaultStore: string;
  /** Flags of the example's own, beyond --host, --grpc-port, --http-port and --store. */
  extraFlags?: Record<Extra, { default: string; env?: string; describe: string }>;
  /** The options that make longrun look like the real service, from the example's own flags. */
  options(flags: Record<Extra, string>): Partial<ServerOptions> & Pick<ServerOptions, "methods">;
}

/**
 * Runs an example server when its module is executed (not when tests import it): flags `--host`,
 * `--grpc-port`, `--http-port`, `--store` falling back to `longrun serve`'s environment variables, then
 * the service's options; prints where it listens; shuts down gracefully on SIGINT and SIGTERM.
 */
export async function runExampleIfMain<Extra extends string>(moduleUrl: string, example: ExampleOptions<Extra>): Promise<void> {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  const extra = (example.extraFlags ?? {}) as Record<string, { default: string; env?: string }>;
  const options: ParseArgsConfig["options"] = {
    host: { type: "string", default: process.env.LONGRUN_HOST ?? "127.0.0.1" },
    "grpc-port": { type: "string", default: process.env.LONGRUN_GRPC_PORT ?? "50051" },
    "http-port": { type: "string", default: process.env.LONGRUN_HTTP_PORT ?? "8080" },
    store: { type: "string", default: process.env.LONGRUN_STORE ?? example.defaultStore },
  };
  for (const [flag, spec] of Object.entries(extra)) {
    options[flag] = { type: "string", default: (spec.env ? process.env[spec.env] : undefined) ?? spec.default };
  }
  const { values } = parseArgs({ options }) as { values: Record<string, string> };
  const port = (flag: string) => {
    const n = Number(values[flag]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${flag}: not a port: ${values[flag]}`);
    return n;
  };
  const server = await startServer({
    ...example.options(values as Record<Extra, string>),
    store: await openStore(values.store!),
    grpc: { host: values.host!, port: port("grpc-port") },
    http: { host: values.host!, port: port("http-port") },
  });
  console.log(`${example.name}: store ${values.store}`);
  console.log(`${example.name}: gRPC listening on ${server.grpcAddress}`);
  console.log(`${example.name}: REST listening on ${server.httpUrl}`);
  const shutdown = (signal: string) => {
    console.log(`${example.name}: ${signal}: shutting down`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}
