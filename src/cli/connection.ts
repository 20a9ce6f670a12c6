import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Option } from "commander";
import { LongrunClient } from "../client/client.js";
import { GrpcTransport } from "../client/grpc.js";
import { ServerReflection } from "../client/reflection.js";
import { Code } from "../core/code.js";
import { DEFAULTS } from "../core/defaults.js";
import { file_longrun_demo_v1_demo } from "../gen/longrun/demo/v1/demo_pb.js";
import { CliError } from "./exit.js";
import { ServerTypes } from "./server-types.js";

export interface ClientFlags {
  server?: string;
  rest: boolean;
  json: boolean;
  descriptors?: string;
  collection: string;
  parentPattern: string;
}

/** Where `longrun serve` listens by default. */
export const DEFAULT_GRPC_SERVER = `${DEFAULTS.host.value}:${DEFAULTS.grpcPort.value}`;
export const DEFAULT_REST_SERVER = `http://${DEFAULTS.host.value}:${DEFAULTS.httpPort.value}`;

/** The options every client command takes. */
export function clientOptions(): Option[] {
  return [
    new Option("--server <address>", `the server: host:port or URL (default ${DEFAULT_GRPC_SERVER}; with --rest ${DEFAULT_REST_SERVER})`).env("LONGRUN_SERVER"),
    new Option("--rest", "use REST/JSON instead of gRPC").default(false),
    new Option("--json", "print proto3 JSON, for scripts").default(false),
    new Option(
      "--descriptors <file>",
      "a FileDescriptorSet with the server's types (buf build -o FILE); over gRPC the CLI asks the server by reflection instead",
    ).env("LONGRUN_DESCRIPTORS"),
    new Option("--collection <id>", "REST: the collection id of the server's operation names (as serve --collection)").env("LONGRUN_COLLECTION").default(DEFAULTS.collection.value),
    new Option("--parent-pattern <pattern>", "REST: the server's parent pattern, e.g. projects/*/locations/* (as serve --parent-pattern)")
      .env("LONGRUN_PARENT_PATTERN")
      .default(""),
  ];
}

/** A client for one command, and what it knows of the server's types. */
export interface Connection {
  client: LongrunClient;
  types: ServerTypes;
  flags: ClientFlags;
  close(): void;
}

export function connect(flags: ClientFlags): Connection {
  const server = flags.server || (flags.rest ? DEFAULT_REST_SERVER : DEFAULT_GRPC_SERVER);
  const local = flags.descriptors === undefined ? undefined : loadDescriptors(flags.descriptors);
  const client = new LongrunClient({
    server,
    transport: flags.rest ? "rest" : "grpc",
    // The demo's types are always known, so `start demo.Sleep` works over REST too.
    files: [file_longrun_demo_v1_demo],
    registry: local,
    rest: { naming: { collection: flags.collection, parent: flags.parentPattern } },
  });
  const reflection = client.transport instanceof GrpcTransport ? new ServerReflection(client.transport.client) : undefined;
  const types = new ServerTypes(client, reflection, local);
  return { client, types, flags, close: () => client.close() };
}

function loadDescriptors(path: string): FileRegistry {
  try {
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
  } catch (err) {
    throw new CliError(Code.INVALID_ARGUMENT, `--descriptors ${path}: not a readable FileDescriptorSet with its imports (${err instanceof Error ? err.message : String(err)})`);
  }
}
