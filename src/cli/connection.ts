import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, type FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Option } from "commander";
import { LongrunClient } from "../client/client.js";
import type { ClientTls } from "../client/credentials.js";
import { GrpcTransport } from "../client/grpc.js";
import { ServerReflection } from "../client/reflection.js";
import { Code } from "../core/code.js";
import { DEFAULTS } from "../core/defaults.js";
import { file_longrun_demo_v1_demo } from "../gen/longrun/demo/v1/demo_pb.js";
import { CliError } from "./exit.js";
import { ServerTypes } from "./server-types.js";
import { optionOf } from "./setting-option.js";

export interface ClientFlags {
  server?: string;
  rest: boolean;
  json: boolean;
  descriptors?: string;
  collection: string;
  parentPattern: string;
  apiKey?: string;
  token?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
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
    // A flag's value shows in `ps` and shell history; the environment variable does not.
    optionOf("apiKey", "<key>", undefined, "(prefer the environment variable; use TLS beyond loopback)"),
    optionOf("token", "<token>", undefined, "(prefer the environment variable; use TLS beyond loopback)"),
    new Option("--tls-ca <file>", "PEM CA bundle to trust instead of the system's; implies TLS"),
    new Option("--tls-cert <file>", "PEM client certificate for mutual TLS (with --tls-key); implies TLS"),
    new Option("--tls-key <file>", "PEM private key of --tls-cert"),
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
  const tls = clientTls(flags);
  // With TLS the default REST server is https (a host:port gRPC server is dialled with TLS by itself).
  const server = flags.server || (flags.rest ? (tls ? DEFAULT_REST_SERVER.replace(/^http:/, "https:") : DEFAULT_REST_SERVER) : DEFAULT_GRPC_SERVER);
  const local = flags.descriptors === undefined ? undefined : loadDescriptors(flags.descriptors);
  let client: LongrunClient;
  try {
    client = new LongrunClient({
      server,
      transport: flags.rest ? "rest" : "grpc",
      // The demo's types are always known, so `start demo.Sleep` works over REST too.
      files: [file_longrun_demo_v1_demo],
      registry: local,
      rest: { naming: { collection: flags.collection, parent: flags.parentPattern } },
      // An empty variable (LONGRUN_TOKEN= in a script) means none rather than an unusable empty header.
      apiKey: flags.apiKey || undefined,
      token: flags.token || undefined,
      tls,
    });
  } catch (err) {
    // The client refuses contradictory or unusable settings (TLS to an http:// server, a key with a newline) with a TypeError.
    if (err instanceof TypeError) throw new CliError(Code.INVALID_ARGUMENT, err.message, { cause: err });
    throw err;
  }
  const reflection = client.transport instanceof GrpcTransport ? new ServerReflection(client.transport) : undefined;
  const types = new ServerTypes(client, reflection, local);
  return { client, types, flags, close: () => client.close() };
}

/** The TLS files of the flags, read; undefined when none is given. */
function clientTls(flags: ClientFlags): ClientTls | undefined {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new CliError(Code.INVALID_ARGUMENT, "--tls-cert and --tls-key go together: a client certificate and its private key");
  }
  if (flags.tlsCa === undefined && flags.tlsCert === undefined) return undefined;
  return {
    ca: readPem("--tls-ca", flags.tlsCa),
    cert: readPem("--tls-cert", flags.tlsCert),
    key: readPem("--tls-key", flags.tlsKey),
  };
}

function readPem(flag: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(Code.INVALID_ARGUMENT, `${flag} ${path}: cannot read it (${err instanceof Error ? err.message : String(err)})`);
  }
}

function loadDescriptors(path: string): FileRegistry {
  try {
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
  } catch (err) {
    throw new CliError(Code.INVALID_ARGUMENT, `--descriptors ${path}: not a readable FileDescriptorSet with its imports (${err instanceof Error ? err.message : String(err)})`);
  }
}
