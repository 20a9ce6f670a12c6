// Builds real google-gax clients (no mocks) against a local longrun server, the way generated
// GAPIC clients do: an OperationsClient from `lro(...)`, a stub for `longrun.demo.v1.Demo`, and an
// API call for `Sleep` wrapped in gax's long-running machinery (LongrunningDescriptor → Operation).
//
// Offline auth: every client gets `auth: new GoogleAuth({ authClient: new PassThroughClient() })`,
// so gax never looks for Application Default Credentials or the GCE metadata server
// (`auth.getUniverseDomain()` returns the pass-through client's "googleapis.com"). gRPC clients also
// get `sslCreds: grpc.credentials.createInsecure()`, which gax uses instead of TLS + Google credentials.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as gax from "google-gax";

const here = dirname(fileURLToPath(import.meta.url));
export const PROTO_DIR = join(here, "../../proto");
const DEMO_PROTO = "longrun/demo/v1/demo.proto";
const DEMO_SERVICE = "longrun.demo.v1.Demo";

/** Short polling so the tests are quick; a total timeout so a stuck operation fails instead of hanging. */
export const backoff = gax.createBackoffSettings(50, 1.3, 500, null, null, null, 20_000);

/**
 * A GoogleAuth that never touches the network (a PassThroughClient adds no credentials and needs no
 * ADC / metadata-server lookup), recording every REST request gax makes through it as "METHOD URL".
 *
 * `decodeHttpErrors`: gax 5.0.8's REST stub sends requests through `auth.fetch()`, and gaxios 7 rejects
 * every non-2xx response with a GaxiosError before gax's own decoder (`GoogleError.parseHttpError`)
 * sees the body — so as shipped, REST errors reach the caller with `code` = the HTTP status (404) and
 * the JSON envelope as `message`, without `reason`/`domain`. Newer gax (google-cloud-node PR #9346)
 * passes `validateStatus: s => s !== 401 && s !== 403` so that error bodies reach the decoder; setting
 * the same on the pass-through transporter gives gax 5.0.8 that behaviour.
 */
export function offlineAuth(options: { decodeHttpErrors?: boolean } = {}): { auth: gax.GoogleAuth; requests: string[] } {
  const authClient = new gax.googleAuthLibrary.PassThroughClient(
    options.decodeHttpErrors ? { transporterOptions: { validateStatus: (s: number) => s !== 401 && s !== 403 } } : {},
  );
  const auth = new gax.GoogleAuth({ authClient });
  const requests: string[] = [];
  const fetch = auth.fetch.bind(auth);
  auth.fetch = ((url: string | URL, init?: { method?: string }) => {
    requests.push(`${init?.method ?? "GET"} ${String(url)}`);
    return fetch(url as string, init as Parameters<typeof fetch>[1]);
  }) as typeof auth.fetch;
  return { auth, requests };
}

/** The demo proto (and its imports, from the vendored google protos) as a protobufjs root. */
export function loadDemoRoot(): gax.protobuf.Root {
  const root = new gax.protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(DEMO_PROTO);
  root.resolveAll();
  return root;
}

/**
 * gax's own bundled `google/longrunning` JSON (build/protos/operations.json, whose GetOperation rule is
 * `GET /v1/operations/{name}`), with the demo's types added so the REST client can decode the demo's
 * Any values (proto3-json-serializer looks `@type` up in the root of the response type).
 */
export function bundledOperationsRootWithDemo(): gax.protobuf.Root {
  const require = createRequire(import.meta.url);
  const gaxMain = require.resolve("google-gax"); // …/google-gax/build/src/index.js
  const bundled = JSON.parse(readFileSync(join(dirname(gaxMain), "../protos/operations.json"), "utf8"));
  const root = gax.protobuf.Root.fromJSON(bundled);
  const demo = loadDemoRoot();
  const googleProtobuf = root.lookup("google.protobuf") as gax.protobuf.Namespace;
  if (!googleProtobuf.get("Timestamp")) {
    googleProtobuf.add(gax.protobuf.Type.fromJSON("Timestamp", demo.lookupType("google.protobuf.Timestamp").toJSON()));
  }
  root.add(gax.protobuf.Namespace.fromJSON("longrun", (demo.lookup("longrun") as gax.protobuf.Namespace).toJSON()));
  root.resolveAll();
  return root;
}

/** The demo's Sleep as a generated GAPIC client would call it. */
export type SleepCall = (
  request: { duration?: { seconds?: number; nanos?: number }; failWith?: { code: number; message: string }; requestId?: string },
  options?: gax.CallOptions,
) => Promise<[gax.Operation, unknown, unknown]>;

export interface GaxClients {
  operations: gax.OperationsClient;
  sleep: SleepCall;
  /** "METHOD URL" of every HTTP request made (REST mode only). */
  requests: string[];
  close(): Promise<void>;
}

const demoClientConfig: gax.ClientConfig = {
  interfaces: {
    [DEMO_SERVICE]: {
      retry_codes: { non_idempotent: [] },
      retry_params: {
        default: {
          initial_retry_delay_millis: 100,
          retry_delay_multiplier: 1.3,
          max_retry_delay_millis: 1000,
          initial_rpc_timeout_millis: 10_000,
          rpc_timeout_multiplier: 1,
          max_rpc_timeout_millis: 10_000,
          total_timeout_millis: 10_000,
        },
      },
      methods: { Sleep: { timeout_millis: 10_000, retry_codes_name: "non_idempotent", retry_params_name: "default" } },
    },
  },
};

/** Per-call settings for the Operations RPCs: a short deadline, so nothing can hang a test. */
const operationsClientConfig: gax.ClientConfig = {
  interfaces: {
    "google.longrunning.Operations": {
      methods: Object.fromEntries(
        ["GetOperation", "ListOperations", "CancelOperation", "DeleteOperation"].map((m) => [m, { timeout_millis: 10_000 }]),
      ),
    },
  },
};

function sleepCall(
  gaxGrpc: { constructSettings(service: string, config: gax.ClientConfig, overrides: gax.ClientConfig, headers: {}): Record<string, gax.CallSettings> },
  stub: Promise<{ [method: string]: Function }>,
  operations: gax.OperationsClient,
  types: gax.protobuf.Root,
  createApiCall: typeof gax.createApiCall,
): SleepCall {
  const settings = gaxGrpc.constructSettings(DEMO_SERVICE, demoClientConfig, {}, {})["sleep"]!;
  const response = types.lookupType(".longrun.demo.v1.SleepResponse");
  const metadata = types.lookupType(".longrun.demo.v1.SleepMetadata");
  const descriptor = new gax.LongrunningDescriptor(operations, response.decode.bind(response), metadata.decode.bind(metadata));
  const call = createApiCall(
    stub.then((s) => (...args: unknown[]) => s["sleep"]!.apply(s, args)),
    settings,
    descriptor,
  );
  return (request, options) => call(request, { longrunning: backoff, ...options }) as unknown as ReturnType<SleepCall>;
}

/** gRPC mode: gax's GrpcClient over @grpc/grpc-js, insecure channel, pass-through auth. */
export async function grpcClients(grpcAddress: string): Promise<GaxClients> {
  const [servicePath, port] = splitAddress(grpcAddress);
  const { auth } = offlineAuth();
  const stubOptions = { servicePath, port, sslCreds: grpc.credentials.createInsecure() };
  const operations = gax.lro({ grpc, auth }).operationsClient({ ...stubOptions, clientConfig: operationsClientConfig });

  const gaxGrpc = new gax.GrpcClient({ grpc, auth });
  const Demo = lookupPath(gaxGrpc.loadProto(PROTO_DIR, DEMO_PROTO), DEMO_SERVICE) as typeof gax.ClientStub;
  const stub = gaxGrpc.createStub(Demo, stubOptions);
  const sleep = sleepCall(gaxGrpc, stub, operations, loadDemoRoot(), gax.createApiCall);
  return {
    operations,
    sleep,
    requests: [],
    close: async () => {
      (await stub).close();
      operations.close();
    },
  };
}

/**
 * REST ("fallback") mode: `fallback: true`, `protocol: "http"`, pass-through auth. `protoJson` selects the
 * Operations HTTP rules: by default gax's bundled ones (plus the demo's types); pass `loadDemoRoot()` to
 * get the upstream rules from the vendored operations.proto, as a generated client passing its own
 * protos.json would. `decodeHttpErrors`: see offlineAuth.
 */
export async function restClients(
  httpUrl: string,
  { protoJson = bundledOperationsRootWithDemo(), decodeHttpErrors = true } = {},
): Promise<GaxClients> {
  const { hostname, port } = new URL(httpUrl);
  const { auth, requests } = offlineAuth({ decodeHttpErrors });
  const stubOptions = { servicePath: hostname, port: Number(port), protocol: "http", fallback: true };
  const operations = gax.fallback
    .lro({ auth, protoJson }) // protoJson implies fallback: true
    .operationsClient({ ...stubOptions, clientConfig: operationsClientConfig });

  // Generated REST clients set numericEnums, which adds `$alt=json;enum-encoding=int` to every URL.
  const gaxGrpc = new gax.fallback.GrpcClient({ auth, fallback: true, numericEnums: true });
  const demoRoot = loadDemoRoot();
  const stub = gaxGrpc.createStub(demoRoot.lookupService(DEMO_SERVICE), stubOptions) as unknown as Promise<{
    [method: string]: Function;
  }>;
  const sleep = sleepCall(gaxGrpc, stub, operations, demoRoot, gax.fallback.createApiCall);
  return { operations, sleep, requests, close: async () => operations.close() };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function lookupPath(obj: unknown, dotted: string): unknown {
  return dotted.split(".").reduce((o, k) => (o as Record<string, unknown>)[k], obj);
}

/** Runs `fn` until it returns true (or throws after `timeoutMs`). */
export async function waitUntil(fn: () => Promise<boolean>, timeoutMs = 10_000, stepMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The error a call that must fail rejected with (typed as the caller expects); fails if it succeeded. */
export async function rejectionOf<E>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error("expected a rejection");
}
