/**
 * The soak: two `longrun serve --demo` processes on one fresh PostgreSQL schema (same page-token secret, so
 * a token from one reads on the other), driven over gRPC at a fixed rate (open loop) with a mix of calls:
 * - start: Demo/Sleep of 0–2 s; 10% with a new request_id, 5% re-sending an earlier request_id (must
 *   return the same operation), 5% ending with fail_with (ABORTED);
 * - wait: WaitOperation with a 0.5–2 s timeout on a started operation;
 * - list: ListOperations, following page tokens (page size 50; a new walk when one ends);
 * - cancel: CancelOperation of a started operation not known done;
 * - delete: DeleteOperation of an operation known done.
 * Every `--kill-every` seconds one instance is killed with SIGKILL and restarted at once, alternating;
 * while it starts again, the load goes to the other one. Errors on a killed instance's channel (calls in
 * flight when it died) are counted apart; INTERNAL, UNKNOWN or DATA_LOSS anywhere is a failure.
 *
 * Every `--sample-every` seconds: each instance's RSS (/proc/<pid>/status) and open file descriptors
 * (/proc/<pid>/fd), latency p50/p99 per kind of call, calls, errors by code.
 *
 * At the end: every started operation not deleted is waited for (bounded); ListOperations must list each
 * exactly once, done, and no deleted one; a trigger in PostgreSQL (as test/integration/postgres-crash.test.ts)
 * records every transition to done, so an operation finished twice, or a done row changed, is a failure.
 * Exits non-zero on a failure, or when the larger RSS of the two grew by more than `--rss-bound` percent
 * between the first sample at or after minute 1 and the last.
 *
 *   npm run soak -- [--minutes 10] [--rate 50] [--sample-every 10] [--kill-every 60] [--rss-bound 50] [--lease 5s]
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { TestGrpcClient } from "../../test/support/grpc-client.js";
import { freshSchema, watchFinishes } from "../../test/support/postgres.js";
import { UsageError } from "../support/args.js";
import { appendJsonLines, machine, markdownTable, percentile, RESULTS_DIR, sleep } from "../support/measure.js";
import { megabytes, serverSource, startBenchServer, type BenchServer } from "../support/server-process.js";

/** What `npm run soak` was asked (bench/soak/index.ts declares the flags). */
export interface SoakArgs {
  minutes: number;
  rate: number;
  "sample-every": number;
  "kill-every": number;
  "rss-bound": number;
  lease: string;
}

type Kind = "start" | "wait" | "list" | "cancel" | "delete";
const KINDS: readonly Kind[] = ["start", "wait", "list", "cancel", "delete"];
/** Shares of the mix, summing to 1. */
const MIX: readonly (readonly [Kind, number])[] = [
  ["start", 0.4],
  ["wait", 0.25],
  ["list", 0.15],
  ["cancel", 0.1],
  ["delete", 0.1],
];
const FAILURE_CODES = new Set<number>([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS]);
/** A call's deadline beyond what it may wait for by design. */
const CALL_DEADLINE_MS = 10_000;
const FINAL_WAIT_MS = 90_000;

interface Instance {
  label: "a" | "b";
  server: BenchServer | undefined;
  client: TestGrpcClient | undefined;
  /** Clients of killed processes: their errors are the expected ones. */
  killed: Set<TestGrpcClient>;
  restarts: number;
}

interface Tracked {
  done: boolean;
  /** true: deleted; "unknown": the delete's answer was lost (killed), it may or may not be. */
  deleted: boolean | "unknown";
  requestId?: string;
}

interface Window {
  latencies: Record<Kind, number[]>;
  calls: number;
  /** Errors by code name, on a live instance. */
  errors: Record<string, number>;
  /** Errors of calls on an instance that was killed while they were in flight. */
  killErrors: number;
}

interface Sample {
  kind: "sample";
  atSeconds: number;
  rssMB: { a: number | null; b: number | null };
  fds: { a: number | null; b: number | null };
  calls: number;
  p50Ms: number;
  p99Ms: number;
  byKind: Record<Kind, { calls: number; p50Ms: number; p99Ms: number }>;
  errors: Record<string, number>;
  killErrors: number;
  operations: number;
}

const emptyWindow = (): Window => ({ latencies: { start: [], wait: [], list: [], cancel: [], delete: [] }, calls: 0, errors: {}, killErrors: 0 });
const round = (x: number, digits = 1): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

export async function run(args: SoakArgs): Promise<void> {
  if (args.rate <= 0 || args["sample-every"] <= 0 || args.minutes <= 0) throw new UsageError("soak: --minutes, --rate and --sample-every must be > 0");
  const durationMs = args.minutes * 60_000;
  const db = await freshSchema("lr_soak");
  await migrate({ connectionString: db.url, schema: db.schema });
  await watchFinishes(db);
  const env = {
    LONGRUN_STORE: db.url,
    LONGRUN_SCHEMA: db.schema,
    LONGRUN_LEASE: args.lease,
    LONGRUN_PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
  };
  const instances: Instance[] = [
    { label: "a", server: undefined, client: undefined, killed: new Set(), restarts: 0 },
    { label: "b", server: undefined, client: undefined, killed: new Set(), restarts: 0 },
  ];
  const boot = async (instance: Instance): Promise<void> => {
    const server = await startBenchServer({ args: ["--demo"], env, instruments: false });
    instance.server = server;
    instance.client = new TestGrpcClient(server.grpcAddress);
  };
  const failures: string[] = [];
  const ops = new Map<string, Tracked>();
  const requestIds: { id: string; name: string; durationMs: number }[] = [];
  const samples: Sample[] = [];
  const kills: { atSeconds: number; instance: string; restartMs: number }[] = [];
  const totals = { calls: 0, killErrors: 0, errors: {} as Record<string, number>, latencies: emptyWindow().latencies };
  let window = emptyWindow();
  let listToken = "";
  let listFilter = "";

  try {
    await Promise.all(instances.map(boot));
    console.log(`soak: ${args.minutes} min, ${args.rate} calls/s, schema ${db.schema}, kill every ${args["kill-every"]} s`);
    const began = performance.now();
    const elapsedMs = (): number => performance.now() - began;

    /** One call on a live instance, timed, its error sorted. */
    const call = async <T>(kind: Kind, body: (client: TestGrpcClient) => Promise<T>): Promise<T | undefined> => {
      const up = instances.filter((i) => i.client !== undefined);
      const instance = pick(up);
      const client = instance?.client;
      if (!instance || !client) return undefined;
      const sent = performance.now();
      window.calls++;
      totals.calls++;
      try {
        const result = await body(client);
        const ms = performance.now() - sent;
        window.latencies[kind].push(ms);
        totals.latencies[kind].push(ms);
        return result;
      } catch (error) {
        const code = (error as grpc.ServiceError).code;
        if (instance.killed.has(client)) {
          window.killErrors++;
          totals.killErrors++;
          return undefined;
        }
        const name = typeof code === "number" ? (grpc.status[code] ?? String(code)) : "NOT_GRPC";
        window.errors[name] = (window.errors[name] ?? 0) + 1;
        totals.errors[name] = (totals.errors[name] ?? 0) + 1;
        if (typeof code !== "number" || FAILURE_CODES.has(code)) {
          failures.push(`${kind}: ${name}: ${(error as Error).message}`);
        }
        throw error;
      }
    };
    const deadline = { deadlineMs: CALL_DEADLINE_MS };
    const learn = (op: Operation): void => {
      const tracked = ops.get(op.name);
      if (tracked && op.done) tracked.done = true;
    };

    const actions: Record<Kind, () => Promise<void>> = {
      start: async () => {
        const roll = Math.random();
        // A repeat sends the same request again (another body with the same id is INVALID_ARGUMENT), and only
        // for an operation not deleted: a deleted operation's request_id starts a new one, as it should.
        const repeat = roll < 0.05 ? pick(requestIds.filter((r) => ops.get(r.name)?.deleted === false)) : undefined;
        const requestId = repeat ? repeat.id : roll < 0.15 ? randomUUID() : "";
        const failWith = roll >= 0.15 && roll < 0.2 ? { code: grpc.status.ABORTED, message: "soak: asked to fail" } : undefined;
        const durationMs = repeat ? repeat.durationMs : Math.floor(Math.random() * 2000);
        const op = await call("start", (c) => c.call(Demo.method.sleep, { duration: durationFromMs(durationMs), requestId, failWith }, deadline));
        if (!op) return;
        if (repeat) {
          if (op.name !== repeat.name) failures.push(`request_id ${repeat.id} started ${op.name}, earlier ${repeat.name}`);
          return;
        }
        if (!ops.has(op.name)) ops.set(op.name, { done: op.done, deleted: false, ...(requestId ? { requestId } : {}) });
        if (requestId) requestIds.push({ id: requestId, name: op.name, durationMs });
      },
      wait: async () => {
        const name = pick([...ops].filter(([, t]) => t.deleted === false).map(([n]) => n));
        if (!name) return;
        const timeoutMs = 500 + Math.floor(Math.random() * 1500);
        const op = await call("wait", (c) => c.call(Operations.method.waitOperation, { name, timeout: durationFromMs(timeoutMs) }, deadline));
        if (op) learn(op);
      },
      list: async () => {
        if (listToken === "") listFilter = Math.random() < 0.5 ? "" : "done = false";
        const page = await call("list", (c) =>
          c.call(Operations.method.listOperations, { name: "operations", pageSize: 50, pageToken: listToken, filter: listFilter }, deadline),
        ).catch(() => undefined);
        // A failed page (killed instance, or an error counted above) starts the walk again.
        listToken = page?.nextPageToken ?? "";
        for (const op of page?.operations ?? []) learn(op);
      },
      cancel: async () => {
        const name = pick([...ops].filter(([, t]) => !t.done && t.deleted === false).map(([n]) => n));
        if (name) await call("cancel", (c) => c.call(Operations.method.cancelOperation, { name }, deadline));
      },
      delete: async () => {
        const candidates = [...ops].filter(([, t]) => t.done && t.deleted === false);
        const entry = pick(candidates);
        if (!entry) return;
        const [name, tracked] = entry;
        tracked.deleted = "unknown";
        const answered = await call("delete", (c) => c.call(Operations.method.deleteOperation, { name }, deadline).then(() => true));
        if (answered) tracked.deleted = true;
      },
    };

    // Samples, on their own timer.
    const takeSample = (): void => {
      const byKind = {} as Sample["byKind"];
      for (const kind of KINDS) {
        const l = window.latencies[kind];
        byKind[kind] = { calls: l.length, p50Ms: round(percentile(l, 0.5)), p99Ms: round(percentile(l, 0.99)) };
      }
      // WaitOperation waits up to its timeout by design: its latency is reported per kind, not mixed in here.
      const all = KINDS.filter((k) => k !== "wait").flatMap((k) => window.latencies[k]);
      const of = (label: "a" | "b", read: (s: BenchServer) => number): number | null => {
        const server = instances.find((i) => i.label === label)?.server;
        try {
          return server ? read(server) : null;
        } catch {
          return null; // killed between the check and the read
        }
      };
      const sample: Sample = {
        kind: "sample",
        atSeconds: Math.round(elapsedMs() / 1000),
        rssMB: { a: of("a", (s) => round(megabytes(s.rssBytes()))), b: of("b", (s) => round(megabytes(s.rssBytes()))) },
        fds: { a: of("a", (s) => readdirSync(`/proc/${s.pid}/fd`).length), b: of("b", (s) => readdirSync(`/proc/${s.pid}/fd`).length) },
        calls: window.calls,
        p50Ms: round(percentile(all, 0.5)),
        p99Ms: round(percentile(all, 0.99)),
        byKind,
        errors: window.errors,
        killErrors: window.killErrors,
        operations: ops.size,
      };
      samples.push(sample);
      window = emptyWindow();
      const errs = Object.entries(sample.errors).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
      console.log(
        `  ${String(sample.atSeconds).padStart(4)} s  RSS a ${sample.rssMB.a ?? "-"} MB b ${sample.rssMB.b ?? "-"} MB  fds ${sample.fds.a ?? "-"}/${sample.fds.b ?? "-"}` +
          `  ${sample.calls} calls  p50 ${sample.p50Ms} ms p99 ${sample.p99Ms} ms  errors ${errs}, on killed ${sample.killErrors}`,
      );
    };
    const sampler = setInterval(takeSample, args["sample-every"] * 1000);

    // Kills, alternating, on their own timer; half a sample period off the samples, so that a sample does not
    // land on the second a process is down.
    let killIndex = 0;
    const killing: Promise<void>[] = [];
    const killOne = async (): Promise<void> => {
      const instance = instances[killIndex++ % 2] as Instance;
      const { server, client } = instance;
      if (!server || !client) return;
      instance.server = undefined;
      instance.client = undefined;
      instance.killed.add(client);
      const at = elapsedMs();
      server.child.kill("SIGKILL");
      await new Promise<void>((resolve) => (server.child.exitCode !== null || server.child.signalCode !== null ? resolve() : server.child.once("exit", () => resolve())));
      await boot(instance);
      instance.restarts++;
      kills.push({ atSeconds: Math.round(at / 1000), instance: instance.label, restartMs: Math.round(elapsedMs() - at) });
      console.log(`  killed ${instance.label} at ${Math.round(at / 1000)} s; serving again after ${Math.round(elapsedMs() - at)} ms`);
      setTimeout(() => client.close(), 5_000);
    };
    const killEveryMs = args["kill-every"] * 1000;
    let killer: NodeJS.Timeout | undefined;
    const firstKill =
      killEveryMs > 0
        ? setTimeout(() => {
            killing.push(killOne());
            killer = setInterval(() => killing.push(killOne()), killEveryMs);
          }, killEveryMs / 2 + (args["sample-every"] * 1000) / 2)
        : undefined;

    // The load: open loop at a fixed rate.
    const intervalMs = 1000 / args.rate;
    const inFlight = new Set<Promise<void>>();
    for (let n = 0; ; n++) {
      const due = n * intervalMs;
      if (due >= durationMs) break;
      const wait = due - elapsedMs();
      if (wait > 0) await sleep(wait);
      let r = Math.random();
      const kind = MIX.find(([, share]) => (r -= share) < 0)?.[0] ?? "start";
      const p: Promise<void> = actions[kind]()
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    clearTimeout(firstKill);
    clearInterval(killer);
    await Promise.all(killing);
    await Promise.all(inFlight);
    clearInterval(sampler);
    takeSample();

    // The end: every operation not deleted done, listed once; none deleted listed; each finished once.
    console.log("  load over; waiting for the operations that are not done…");
    const client = instances[0]?.client as TestGrpcClient;
    const until = Date.now() + FINAL_WAIT_MS;
    for (const [name, tracked] of ops) {
      while (!tracked.done && tracked.deleted !== true && Date.now() < until) {
        try {
          const op = await client.call(Operations.method.waitOperation, { name, timeout: durationFromMs(5_000) }, deadline);
          tracked.done = op.done;
        } catch (error) {
          // A delete whose answer was lost may have happened.
          if ((error as grpc.ServiceError).code === grpc.status.NOT_FOUND && tracked.deleted === "unknown") tracked.deleted = true;
          else {
            failures.push(`final wait ${name}: ${(error as Error).message}`);
            break;
          }
        }
      }
    }
    const listed = new Map<string, { count: number; done: boolean }>();
    let token = "";
    do {
      const page = await client.call(Operations.method.listOperations, { name: "operations", pageSize: 500, pageToken: token }, deadline);
      for (const op of page.operations) listed.set(op.name, { count: (listed.get(op.name)?.count ?? 0) + 1, done: op.done });
      token = page.nextPageToken;
    } while (token !== "");
    let notDone = 0;
    for (const [name, tracked] of ops) {
      const seen = listed.get(name);
      if (tracked.deleted === true && seen) failures.push(`${name} was deleted but is listed`);
      if (tracked.deleted === false && !seen) failures.push(`${name} is missing from the list`);
      if (seen && seen.count !== 1) failures.push(`${name} listed ${seen.count} times`);
      if (seen && !seen.done) notDone++;
    }
    if (notDone > 0) failures.push(`${notDone} operations not done ${FINAL_WAIT_MS / 1000} s after the load`);
    const s = `"${db.schema}"`;
    const twice = await db.admin.query<{ id: string; n: string }>(`SELECT id, count(*) AS n FROM ${s}.test_finishes GROUP BY id HAVING count(*) > 1`);
    for (const row of twice.rows) failures.push(`operation ${row.id} finished ${row.n} times`);
    const violations = await db.admin.query<{ id: string; what: string }>(`SELECT id, what FROM ${s}.test_violations`);
    for (const row of violations.rows) failures.push(`operation ${row.id}: ${row.what}`);
    const finishes = Number((await db.admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.test_finishes`)).rows[0]?.n ?? 0);

    // RSS growth: the larger of the two instances, first sample at or after minute 1 → last sample.
    const maxRss = (x: Sample): number | null => {
      const values = [x.rssMB.a, x.rssMB.b].filter((v): v is number => v !== null);
      return values.length === 0 ? null : Math.max(...values);
    };
    const fromSample = samples.find((x) => x.atSeconds >= 60 && maxRss(x) !== null) ?? samples.find((x) => maxRss(x) !== null);
    const lastSample = [...samples].reverse().find((x) => maxRss(x) !== null);
    const rssFrom = fromSample ? (maxRss(fromSample) as number) : Number.NaN;
    const rssTo = lastSample ? (maxRss(lastSample) as number) : Number.NaN;
    const growthPercent = round(((rssTo - rssFrom) / rssFrom) * 100);
    const rssOk = !(growthPercent > args["rss-bound"]);

    const summary = {
      kind: "summary",
      date: new Date().toISOString(),
      machine: machine(),
      server: serverSource(),
      settings: args,
      operations: ops.size,
      deleted: [...ops.values()].filter((t) => t.deleted === true).length,
      finishes,
      calls: totals.calls,
      byKind: Object.fromEntries(
        KINDS.map((k) => [k, { calls: totals.latencies[k].length, p50Ms: round(percentile(totals.latencies[k], 0.5)), p99Ms: round(percentile(totals.latencies[k], 0.99)) }]),
      ),
      errors: totals.errors,
      killErrors: totals.killErrors,
      kills,
      rss: { fromSeconds: fromSample?.atSeconds ?? null, fromMB: rssFrom, toSeconds: lastSample?.atSeconds ?? null, toMB: rssTo, growthPercent, boundPercent: args["rss-bound"], ok: rssOk },
      failures,
    };
    appendJsonLines("soak.jsonl", [...samples, summary]);
    const markdown = report(samples, summary);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(RESULTS_DIR + "soak.md", markdown);
    console.log("\n" + markdown);
    if (!rssOk) console.error(`soak: RSS grew ${growthPercent}% (bound ${args["rss-bound"]}%)`);
    if (failures.length > 0) console.error(`soak: ${failures.length} failures:\n  ${failures.slice(0, 20).join("\n  ")}`);
    if (!rssOk || failures.length > 0) process.exitCode = 1;
  } finally {
    for (const instance of instances) {
      instance.client?.close();
      await instance.server?.stop();
    }
    await db.drop();
  }
}

interface Summary {
  date: string;
  settings: SoakArgs;
  operations: number;
  deleted: number;
  finishes: number;
  calls: number;
  byKind: Record<string, { calls: number; p50Ms: number; p99Ms: number }>;
  errors: Record<string, number>;
  killErrors: number;
  kills: { atSeconds: number; instance: string; restartMs: number }[];
  rss: { fromSeconds: number | null; fromMB: number; toSeconds: number | null; toMB: number; growthPercent: number; boundPercent: number; ok: boolean };
  failures: string[];
}

function report(samples: readonly Sample[], summary: Summary): string {
  const dash = (v: number | null): string => (v === null ? "–" : String(v));
  const errs = (e: Record<string, number>): string => Object.entries(e).map(([k, v]) => `${k} ${v}`).join(", ") || "0";
  const lines = [
    `# soak — ${summary.settings.minutes} min, ${summary.settings.rate} calls/s, a SIGKILL every ${summary.settings["kill-every"]} s`,
    "",
    `${summary.date}; two \`longrun serve --demo\` on one PostgreSQL schema, --lease ${summary.settings.lease}. ` +
      `Kills: ${summary.kills.map((k) => `${k.instance} at ${k.atSeconds} s (serving again after ${k.restartMs} ms)`).join("; ") || "none"}.`,
    "",
    markdownTable(
      ["s", "RSS a MB", "RSS b MB", "fds a", "fds b", "p50 ms¹", "p99 ms¹", "calls", "errors", "on killed"],
      samples.map((x) => [
        String(x.atSeconds),
        dash(x.rssMB.a),
        dash(x.rssMB.b),
        dash(x.fds.a),
        dash(x.fds.b),
        String(x.p50Ms),
        String(x.p99Ms),
        String(x.calls),
        errs(x.errors),
        String(x.killErrors),
      ]),
    ),
    "¹ all calls but WaitOperation (which waits up to its 0.5–2 s timeout by design), over the sample period before it. " +
      "RSS and fds: a killed instance's column is the new process from its restart on.",
    "",
    markdownTable(
      ["call", "calls", "p50 ms", "p99 ms"],
      Object.entries(summary.byKind).map(([k, v]) => [k, String(v.calls), String(v.p50Ms), String(v.p99Ms)]),
    ),
    `Operations started: ${summary.operations} (deleted ${summary.deleted}); transitions to done recorded by the trigger: ${summary.finishes}. ` +
      `Calls: ${summary.calls}; errors on live instances: ${errs(summary.errors)}; on a killed instance: ${summary.killErrors}.`,
    "",
    `RSS (larger instance): ${summary.rss.fromMB} MB at ${dash(summary.rss.fromSeconds)} s → ${summary.rss.toMB} MB at ${dash(summary.rss.toSeconds)} s ` +
      `(${summary.rss.growthPercent}%, bound ${summary.rss.boundPercent}%: ${summary.rss.ok ? "ok" : "FAILED"}).`,
    "",
    summary.failures.length === 0 ? "Failures: none." : `Failures (${summary.failures.length}):\n\n${summary.failures.slice(0, 50).map((f) => `- ${f}`).join("\n")}`,
    "",
  ];
  return lines.join("\n");
}
