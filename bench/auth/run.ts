/**
 * What authentication and authorization cost a GetOperation: two `longrun serve --demo` processes on SQLite,
 * one with auth off and one with `--auth` (an API key and a JWT issuer, a viewer binding on `*`), each
 * reading the same kind of done operation. Three variants take turns in every round — off, API key, JWT
 * (one ES256 token reused, as clients reuse theirs until it expires) — over gRPC (one channel, N calls in
 * flight) and REST (autocannon, N connections). Reported: medians with min–max, each variant / off, and the
 * server CPU per request. Goal (issue 15): auth on ≥ 90% of auth off.
 *
 *   npm run bench -- auth [--seconds 5] [--repeat 5] [--warmup 3] [--concurrency 1,64] [--transports grpc,rest]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { hashApiKey } from "../../src/auth/api-key-hash.js";
import { encodeRequest, keepInFlight, methodPath, ownChannel, rawCall } from "../support/grpc-raw.js";
import { markdownTable, medianRange, percentile, saveSideBySide } from "../support/measure.js";
import { serverSource, startBenchServer, type BenchServer } from "../support/server-process.js";
import { autocannon } from "../support/autocannon.js";

type Transport = "grpc" | "rest";
type Variant = "off" | "api-key" | "jwt";
const VARIANTS: readonly Variant[] = ["off", "api-key", "jwt"];
const GOAL_RATIO = 0.9;
const GET_PATH = methodPath(Operations.method.getOperation);
const API_KEY = "lr_bench_key_0123456789abcdefghijklmnopqrstuvwxyz";


export interface AuthArgs {
  seconds: number;
  repeat: number;
  warmup: number;
  concurrency: number[];
  transports: Transport[];
}

interface Target {
  server: BenchServer;
  client: grpc.Client;
  headers: Record<string, string>;
  metadata: grpc.Metadata;
  name: string;
  request: Buffer;
}

interface Measurement {
  transport: Transport;
  concurrency: number;
  variant: Variant;
  round: number;
  requestsPerSecond: number;
  p50Ms: number;
  errors: number;
  serverCpuMicrosPerRequest: number;
}

export async function run(args: AuthArgs): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-auth-"));
  const measurements: Measurement[] = [];
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }));
  const token = await new SignJWT({ sub: "bench" })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer("https://issuer.bench")
    .setAudience("longrun")
    .setExpirationTime("2h")
    .sign(privateKey);
  const authFile = join(dir, "auth.json");
  writeFileSync(
    authFile,
    JSON.stringify({
      apiKeys: [{ sha256: hashApiKey(API_KEY), principal: "serviceAccount:bench@example" }],
      jwt: { jwks: "./jwks.json", issuer: "https://issuer.bench", audience: "longrun" },
      bindings: [{ role: "roles/longrun.editor", members: ["serviceAccount:bench@example", "user:bench"], resource: "*" }],
    }),
  );
  const off = await startBenchServer({ args: ["--demo"], env: { LONGRUN_STORE: `sqlite:${join(dir, "off.db")}` }, instruments: false });
  const on = await startBenchServer({ args: ["--demo", "--auth", authFile], env: { LONGRUN_STORE: `sqlite:${join(dir, "on.db")}` }, instruments: false });
  const targets: Record<Variant, Target> = {
    off: await target(off, {}),
    "api-key": await target(on, { "x-goog-api-key": API_KEY }),
    jwt: await target(on, { authorization: `Bearer ${token}` }),
  };
  try {
    for (const transport of args.transports) {
      for (const concurrency of args.concurrency) {
        for (const variant of VARIANTS) await load(targets[variant], transport, concurrency, args.warmup);
        for (let round = 1; round <= args.repeat; round++) {
          // Each round starts with the next variant, so none always runs right after another.
          const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
          for (const variant of order) {
            const result = await load(targets[variant], transport, concurrency, args.seconds);
            measurements.push({ transport, concurrency, variant, round, ...result });
            console.log(`${transport} c=${concurrency} round ${round} ${variant}: ${result.requestsPerSecond.toFixed(0)} req/s, ${result.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req${result.errors ? `, ${result.errors} errors` : ""}`);
          }
        }
      }
    }
  } finally {
    for (const t of Object.values(targets)) t.client.close();
    await off.stop();
    await on.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  report(measurements, args);
}

/** A client of `server` sending `headers` (as metadata over gRPC), and a done operation to read. */
async function target(server: BenchServer, headers: Record<string, string>): Promise<Target> {
  const client = ownChannel(server.grpcAddress);
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  const started = fromBinary(OperationSchema, (await rawCall(client, methodPath(Demo.method.sleep), encodeRequest(Demo.method.sleep, { duration: durationFromMs(0) }), undefined, metadata)).bytes);
  const waited = fromBinary(
    OperationSchema,
    (await rawCall(client, methodPath(Operations.method.waitOperation), encodeRequest(Operations.method.waitOperation, { name: started.name, timeout: durationFromMs(10_000) }), undefined, metadata)).bytes,
  );
  if (!waited.done) throw new Error(`${started.name} is not done after 10 s`);
  const request = encodeRequest(Operations.method.getOperation, { name: started.name });
  await rawCall(client, GET_PATH, request, undefined, metadata); // fails loudly if the credentials are refused
  return { server, client, headers, metadata, name: started.name, request };
}

async function load(t: Target, transport: Transport, concurrency: number, seconds: number): Promise<Omit<Measurement, "transport" | "concurrency" | "variant" | "round">> {
  const cpuBefore = t.server.cpuSeconds();
  const began = performance.now();
  let requests = 0;
  let errors = 0;
  let p50Ms = 0;
  if (transport === "grpc") {
    const result = await keepInFlight(t.client, GET_PATH, t.request, { concurrency, seconds, metadata: t.metadata });
    requests = Math.round(result.requestsPerSecond * seconds);
    errors = result.errors;
    p50Ms = result.p50Ms;
  } else {
    const result = await autocannon({ url: `${t.server.httpUrl}/v1/${t.name}`, connections: concurrency, duration: seconds, pipelining: 1, headers: t.headers });
    requests = result.requests.total;
    errors = result.errors + result.timeouts + result.non2xx;
    p50Ms = result.latency.p50;
  }
  const elapsed = (performance.now() - began) / 1000;
  const cpu = t.server.cpuSeconds() - cpuBefore;
  return { requestsPerSecond: requests / elapsed, p50Ms, errors, serverCpuMicrosPerRequest: (1e6 * cpu) / Math.max(1, requests) };
}

function report(measurements: readonly Measurement[], args: AuthArgs): void {
  const date = new Date().toISOString();
  const source = serverSource();
  const rows: string[][] = [];
  const summaries: Record<string, unknown>[] = [];
  const keys = [...new Set(measurements.map((m) => `${m.transport} ${m.concurrency}`))];
  for (const key of keys) {
    const of = (variant: Variant) => measurements.filter((m) => `${m.transport} ${m.concurrency}` === key && m.variant === variant);
    const median = (variant: Variant) => percentile(of(variant).map((m) => m.requestsPerSecond), 0.5);
    const cpu = (variant: Variant) => percentile(of(variant).map((m) => m.serverCpuMicrosPerRequest), 0.5);
    const range = (variant: Variant) => medianRange(of(variant).map((m) => m.requestsPerSecond), median(variant));
    const [transport, concurrency] = key.split(" ");
    const keyRatio = median("api-key") / median("off");
    const jwtRatio = median("jwt") / median("off");
    const errors = [...of("off"), ...of("api-key"), ...of("jwt")].reduce((sum, m) => sum + m.errors, 0);
    summaries.push({ transport, concurrency: Number(concurrency), off: median("off"), apiKey: median("api-key"), jwt: median("jwt"), keyRatio, jwtRatio, errors });
    rows.push([
      transport === "grpc" ? "gRPC" : "REST",
      concurrency!,
      range("off"),
      range("api-key"),
      range("jwt"),
      `${(100 * keyRatio).toFixed(0)}% / ${(100 * jwtRatio).toFixed(0)}%`,
      keyRatio >= GOAL_RATIO && jwtRatio >= GOAL_RATIO ? "met" : "**missed**",
      `${cpu("off").toFixed(0)} / ${cpu("api-key").toFixed(0)} / ${cpu("jwt").toFixed(0)} µs`,
      errors ? `**${errors}**` : "0",
    ]);
  }
  const setup =
    "off: `longrun serve --demo`; API key and JWT: `longrun serve --demo --auth` (viewer-or-better binding on `*`), the same GetOperation with `x-goog-api-key` or `authorization: Bearer` (one ES256 token, reused).";
  const table = markdownTable(["transport", "in flight", "off req/s", "API key req/s", "JWT req/s", "key / off, JWT / off", "goal ≥ 90%", "server CPU per request off / key / JWT", "failed calls"], rows);
  saveSideBySide({ bench: "auth", title: "GetOperation with auth on and off", setup, variants: 3, date, source, args }, measurements, summaries, table);
}
