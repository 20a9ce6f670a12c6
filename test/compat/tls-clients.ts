// The client side of test/compat/gax-tls.test.ts, run in a child process:
//
//     GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=ca.pem NODE_EXTRA_CA_CERTS=ca.pem node --import tsx test/compat/tls-clients.ts < plan.json
//
// It builds Google's clients exactly as production code does — google-gax 5's OperationsClient and a
// generated-style Sleep call, @googlemaps/routeoptimization, @google-cloud/storage-transfer (its own gax 4) —
// with real google-auth-library credentials (`new GoogleAuth({ apiKey })`, an OAuth2Client holding a bearer
// token) and no `sslCreds` or `protocol` override, so gax makes TLS channels with Google call credentials
// (`createSsl()` + `createFromGoogleCredential`) and https REST requests itself. The only thing that makes
// them trust the throwaway CA is the environment, which both grpc-js (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) and
// Node (NODE_EXTRA_CA_CERTS, read at process start) consult: hence a process of its own.
//
// It reads a Plan (JSON) on stdin, makes its calls in order, and prints one Outcome per call (JSON) on
// stdout. The test asserts on the outcomes. Secrets are only ever read from stdin, never from argv, and are
// scrubbed from every message printed.
import { createRequire } from "node:module";
import * as gax from "google-gax";
import { v1 as routeOptimization } from "@googlemaps/routeoptimization";
import { v1 as storageTransfer } from "@google-cloud/storage-transfer";
import { PROTO_DIR, bundledOperationsRootWithDemo, loadDemoRoot } from "./gax-clients.js";

// ---- the plan and its outcomes (imported as types by the test) ------------------------------------------

/** Which server a client talks to, by the client's kind. */
export type ServerName = "demo" | "routes" | "transfer";
/**
 * - `operations`: google-gax's OperationsClient (gax.lro / gax.fallback.lro), against the demo server;
 * - `demo`: `longrun.demo.v1.Demo/Sleep` as a generated GAPIC client calls it (createApiCall + LongrunningDescriptor);
 * - `routes`: `@googlemaps/routeoptimization` v1.RouteOptimizationClient;
 * - `transfer`: `@google-cloud/storage-transfer` v1.StorageTransferServiceClient.
 */
export type ClientKind = "operations" | "demo" | "routes" | "transfer";
export type Transport = "grpc" | "rest";
/** A credential as the client library is given it. `none`: an auth client that adds nothing. */
export type Credential = { apiKey: string } | { bearer: string } | { none: true };

export interface Call {
  /** Names the outcome; later calls refer to the operation it returned as `<<id>>` in their request. */
  id: string;
  client: ClientKind;
  transport: Transport;
  /** A key of Plan.credentials. */
  as: string;
  /** The client's method (`getOperation`, `batchOptimizeTours`…); a name ending in `Async` is iterated. */
  method: string;
  request?: unknown;
  /** For methods starting an operation: also await `operation.promise()` (recorded in `promise`). */
  promise?: boolean;
}

/** Awaits `promise()` of the operation an earlier call started (and did not await). */
export interface PromiseOf {
  id: string;
  promiseOf: string;
}

export interface Plan {
  /** host:port of each server's gRPC and REST ports (both under TLS). */
  targets: Partial<Record<ServerName, { grpc: string; rest: string }>>;
  credentials: Record<string, Credential>;
  calls: (Call | PromiseOf)[];
}

/** An error as the client library surfaced it. */
export interface CallError {
  /** The error's class: GoogleError (gRPC, and REST errors gax decodes), GaxiosError, … */
  type: string;
  /** The numeric gRPC code (GoogleError), or what the library put in `code` (an HTTP status, a string). */
  code: number | string | undefined;
  /** The HTTP status, when the library kept one. */
  status: number | undefined;
  reason: string | undefined;
  domain: string | undefined;
  metadata: Record<string, string> | undefined;
  message: string;
}

export type Outcome =
  | { id: string; ok: true; value: unknown; name?: string; promise?: { ok: true; value: unknown } | { ok: false; error: CallError } }
  | { id: string; ok: false; error: CallError };

// ---- clients ---------------------------------------------------------------------------------------------

/** Short polling for promise(); a total timeout so nothing hangs. */
const LONGRUNNING = { initialRetryDelayMillis: 50, retryDelayMultiplier: 1.3, maxRetryDelayMillis: 300, totalTimeoutMillis: 20_000 };
const CALL_OPTIONS = { timeout: 10_000, longrunning: LONGRUNNING };

type Method = (...args: unknown[]) => unknown;
type AnyClient = { close(): unknown } & Record<string, unknown>;

/** What a client library's google-auth-library offers (the parts used here). */
interface AuthLibrary {
  GoogleAuth: new (options: object) => object;
  OAuth2Client: new () => { setCredentials(credentials: { access_token: string; expiry_date: number }): void };
  PassThroughClient: new () => object;
}
/** google-gax 5's google-auth-library 10 (gax.googleAuthLibrary). */
const gaxAuth = gax.googleAuthLibrary as unknown as AuthLibrary;
/** The storage-transfer client's own: the google-auth-library 9 of its google-gax 4. */
const require = createRequire(import.meta.url);
const nestedGaxPath = require.resolve("google-gax", { paths: [require.resolve("@google-cloud/storage-transfer")] });
const transferAuth = createRequire(nestedGaxPath)("google-auth-library") as AuthLibrary;

/** The production way to give a Google client each kind of credential, in the given auth library. */
function googleAuth(library: AuthLibrary, credential: Credential): object {
  if ("apiKey" in credential) return new library.GoogleAuth({ apiKey: credential.apiKey });
  if ("bearer" in credential) {
    const authClient = new library.OAuth2Client();
    authClient.setCredentials({ access_token: credential.bearer, expiry_date: Date.now() + 3_600_000 });
    return new library.GoogleAuth({ authClient });
  }
  return new library.GoogleAuth({ authClient: new library.PassThroughClient() });
}

function hostPort(address: string): { servicePath: string; port: number } {
  const i = address.lastIndexOf(":");
  return { servicePath: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

const DEMO_SERVICE = "longrun.demo.v1.Demo";
const demoConfig: gax.ClientConfig = {
  interfaces: {
    [DEMO_SERVICE]: {
      retry_codes: { non_idempotent: [] },
      retry_params: {
        default: { initial_retry_delay_millis: 100, retry_delay_multiplier: 1.3, max_retry_delay_millis: 1000, initial_rpc_timeout_millis: 10_000, rpc_timeout_multiplier: 1, max_rpc_timeout_millis: 10_000, total_timeout_millis: 10_000 },
      },
      methods: { Sleep: { timeout_millis: 10_000, retry_codes_name: "non_idempotent", retry_params_name: "default" } },
    },
  },
};

/** google-gax 5: the OperationsClient, and Sleep wired as a generated client wires a long-running method. */
async function gaxClients(transport: Transport, address: string, auth: gax.GoogleAuth): Promise<{ operations: AnyClient; demo: AnyClient }> {
  const { servicePath, port } = hostPort(address);
  const demoRoot = loadDemoRoot();
  const rest = transport === "rest";
  const operations = rest
    ? gax.fallback.lro({ auth, protoJson: bundledOperationsRootWithDemo() }).operationsClient({ servicePath, port, fallback: true })
    : gax.lro({ auth }).operationsClient({ servicePath, port });
  const gaxGrpc = rest ? new gax.fallback.GrpcClient({ auth, fallback: true, numericEnums: true }) : new gax.GrpcClient({ auth });
  const stub = (
    rest
      ? (gaxGrpc as gax.fallback.GrpcClient).createStub(demoRoot.lookupService(DEMO_SERVICE), { servicePath, port, fallback: true })
      : (gaxGrpc as gax.GrpcClient).createStub(
          DEMO_SERVICE.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], (gaxGrpc as gax.GrpcClient).loadProto(PROTO_DIR, "longrun/demo/v1/demo.proto")) as typeof gax.ClientStub,
          { servicePath, port },
        )
  ) as Promise<Record<string, Method>>;
  const settings = gaxGrpc.constructSettings(DEMO_SERVICE, demoConfig, {}, {})["sleep"]!;
  const response = demoRoot.lookupType(".longrun.demo.v1.SleepResponse");
  const metadata = demoRoot.lookupType(".longrun.demo.v1.SleepMetadata");
  const descriptor = new gax.LongrunningDescriptor(operations, response.decode.bind(response), metadata.decode.bind(metadata));
  const createApiCall = rest ? gax.fallback.createApiCall : gax.createApiCall;
  const sleep = createApiCall(
    stub.then((s) => ((...args: unknown[]) => s["sleep"]!(...args)) as unknown as Awaited<Parameters<typeof gax.createApiCall>[0]>),
    settings,
    descriptor,
  );
  const demo: AnyClient = {
    sleep: (request: unknown, options: unknown) => sleep(request as {}, options as gax.CallOptions),
    close: async () => (await stub)["close"]?.(),
  };
  return { operations: operations as unknown as AnyClient, demo };
}

/** Each client once per (kind, transport, credential), made when first called; gax's two share one set-up. */
class Clients {
  readonly #made = new Map<string, Promise<Record<string, AnyClient>>>();
  constructor(readonly plan: Plan) {}

  async get(kind: ClientKind, transport: Transport, as: string): Promise<AnyClient> {
    const gaxKinds = kind === "operations" || kind === "demo";
    const key = `${gaxKinds ? "gax" : kind} ${transport} ${as}`;
    let made = this.#made.get(key);
    if (!made) this.#made.set(key, (made = this.#make(kind, transport, as)));
    return (await made)[kind]!;
  }

  async #make(kind: ClientKind, transport: Transport, as: string): Promise<Record<string, AnyClient>> {
    const credential = this.plan.credentials[as];
    if (!credential) throw new Error(`no credential named ${as}`);
    const server: ServerName = kind === "operations" || kind === "demo" ? "demo" : kind;
    const target = this.plan.targets[server];
    if (!target) throw new Error(`no ${server} server in the plan`);
    const address = target[transport];
    if (kind === "operations" || kind === "demo") return { ...(await gaxClients(transport, address, googleAuth(gaxAuth, credential) as gax.GoogleAuth)) };
    const { servicePath: apiEndpoint, port } = hostPort(address);
    const fallback = transport === "rest";
    if (kind === "routes") {
      const auth = googleAuth(gaxAuth, credential) as gax.GoogleAuth;
      return { routes: new routeOptimization.RouteOptimizationClient({ apiEndpoint, port, auth, fallback }) as unknown as AnyClient };
    }
    type TransferOptions = NonNullable<ConstructorParameters<typeof storageTransfer.StorageTransferServiceClient>[0]>;
    const auth = googleAuth(transferAuth, credential) as TransferOptions["auth"];
    return { transfer: new storageTransfer.StorageTransferServiceClient({ apiEndpoint, port, auth, fallback }) as unknown as AnyClient };
  }

  async close(): Promise<void> {
    for (const made of this.#made.values()) {
      for (const client of Object.values((await made.catch(() => undefined)) ?? {})) await client.close();
    }
  }
}

// ---- making the calls ------------------------------------------------------------------------------------

/** gax's Operation (either gax): an EventEmitter with promise(), name and the latest raw operation. */
interface GaxOperation {
  name: string;
  done?: boolean;
  error?: unknown;
  metadata?: unknown;
  result?: unknown;
  latestResponse?: { done?: boolean };
  promise(): Promise<unknown[]>;
}

function isOperation(value: unknown): value is GaxOperation {
  return typeof value === "object" && value !== null && typeof (value as GaxOperation).promise === "function" && "latestResponse" in value;
}

/** A client's answer as JSON: bytes as base64, int64 (Long) as strings, gax Operations as what they hold. */
function plain(value: unknown, depth = 0): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function") return undefined;
  if (typeof value !== "object") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (depth > 12) return "…";
  if ("low" in value && "high" in value && "unsigned" in value) return String(value);
  if (isOperation(value)) {
    return { name: value.name, done: value.done ?? value.latestResponse?.done ?? false, error: plain(value.error, depth + 1), metadata: plain(value.metadata, depth + 1) };
  }
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = plain(v, depth + 1);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

function scrubber(plan: Plan): (text: string) => string {
  const secrets = Object.values(plan.credentials).flatMap((c) => ("apiKey" in c ? [c.apiKey] : "bearer" in c ? [c.bearer] : []));
  return (text) => secrets.reduce((t, s) => t.split(s).join("<redacted>"), text);
}

function callError(err: unknown, scrub: (text: string) => string): CallError {
  const e = (err ?? {}) as Error & {
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown };
    reason?: unknown;
    domain?: unknown;
    errorInfoMetadata?: unknown;
  };
  const code = typeof e.code === "number" || typeof e.code === "string" ? e.code : undefined;
  const status = typeof e.status === "number" ? e.status : typeof e.response?.status === "number" ? e.response.status : undefined;
  return {
    type: e.constructor?.name ?? typeof err,
    code,
    status,
    reason: typeof e.reason === "string" ? e.reason : undefined,
    domain: typeof e.domain === "string" ? e.domain : undefined,
    metadata: e.errorInfoMetadata && typeof e.errorInfoMetadata === "object" ? { ...(e.errorInfoMetadata as Record<string, string>) } : undefined,
    message: scrub(String(e.message ?? err)),
  };
}

/** Replaces `<<id>>` in every string of the request by the name of the operation call `id` returned. */
function resolve(request: unknown, outcomes: Map<string, Outcome>): unknown {
  if (typeof request === "string") {
    return request.replace(/<<([^>]+)>>/g, (_, id: string) => {
      const outcome = outcomes.get(id);
      if (!outcome || !outcome.ok || outcome.name === undefined) throw new Error(`<<${id}>>: that call named no operation`);
      return outcome.name;
    });
  }
  if (Array.isArray(request)) return request.map((r) => resolve(r, outcomes));
  if (typeof request === "object" && request !== null) {
    return Object.fromEntries(Object.entries(request).map(([k, v]) => [k, resolve(v, outcomes)]));
  }
  return request;
}

async function settle(promise: Promise<unknown[]>, scrub: (text: string) => string): Promise<{ ok: true; value: unknown } | { ok: false; error: CallError }> {
  try {
    return { ok: true, value: plain(await promise) };
  } catch (err) {
    return { ok: false, error: callError(err, scrub) };
  }
}

async function run(plan: Plan): Promise<Outcome[]> {
  const clients = new Clients(plan);
  const scrub = scrubber(plan);
  const outcomes = new Map<string, Outcome>();
  const started = new Map<string, GaxOperation>();
  try {
    for (const call of plan.calls) {
      if (outcomes.has(call.id)) throw new Error(`two calls named ${call.id}`);
      if ("promiseOf" in call) {
        const operation = started.get(call.promiseOf);
        if (!operation) throw new Error(`${call.id}: call ${call.promiseOf} started no operation`);
        const settled = await settle(operation.promise(), scrub);
        outcomes.set(call.id, settled.ok ? { id: call.id, ok: true, value: settled.value, name: operation.name } : { id: call.id, ...settled });
        continue;
      }
      try {
        const client = await clients.get(call.client, call.transport, call.as);
        const method = client[call.method];
        if (typeof method !== "function") throw new Error(`${call.client} has no method ${call.method}`);
        const result = await (method as Method).call(client, resolve(call.request, outcomes), CALL_OPTIONS);
        let value: unknown;
        if (call.method.endsWith("Async")) {
          const items: unknown[] = [];
          for await (const item of result as AsyncIterable<unknown>) items.push(item);
          value = items;
        } else {
          value = result;
        }
        const first = Array.isArray(value) && !call.method.endsWith("Async") ? value[0] : value;
        const name = typeof (first as { name?: unknown } | null)?.name === "string" ? (first as { name: string }).name : undefined;
        const outcome: Outcome = { id: call.id, ok: true, value: plain(value), ...(name === undefined ? {} : { name }) };
        if (isOperation(first)) {
          started.set(call.id, first);
          if (call.promise) outcome.promise = await settle(first.promise(), scrub);
        }
        outcomes.set(call.id, outcome);
      } catch (err) {
        outcomes.set(call.id, { id: call.id, ok: false, error: callError(err, scrub) });
      }
    }
  } finally {
    await clients.close();
  }
  return [...outcomes.values()];
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

const plan = JSON.parse(await readStdin()) as Plan;
const outcomes = await run(plan);
// Exit once written: keep-alive agents and channels would keep the process alive otherwise.
process.stdout.write(`${JSON.stringify(outcomes)}\n`, () => process.exit(0));
