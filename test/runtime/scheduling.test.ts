// Scheduling controls in the runtime (docs/scheduling.md): retry policy, attempt timeout, deadline, start
// time — over a real SQLite file, with a manual clock (no sleeps).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { SleepRequestSchema, type SleepRequest } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Starter } from "../../src/runtime/starter.js";
import type { MethodDeclaration } from "../../src/runtime/methods.js";
import { nextAttemptTime, resolveScheduling, type RetryPolicy } from "../../src/runtime/scheduling.js";
import type { OperationRecord } from "../../src/store/store.js";
import { settle, until } from "../support/manual-clock.js";
import { claimAll, executorOf, fixture, SLEEP, sleepMethod, type Fixture, type SleepHandler } from "./fixture.js";

const NO_JITTER = { maxAttempts: 3, initialBackoffMs: 1_000, maxBackoffMs: 60_000, multiplier: 2, jitter: 0 } satisfies Partial<RetryPolicy>;

/** A handler failing with `codes[attempt - 1]` (succeeding past the list), recording the attempts it saw. */
function failing(codes: readonly Code[], attempts: number[]): SleepHandler {
  return async (_request, ctx) => {
    attempts.push(ctx.attempt);
    const code = codes[ctx.attempt - 1];
    if (code !== undefined) throw new RpcError(code, `attempt ${ctx.attempt} failed`);
    return { slept: { seconds: 1n } };
  };
}

/** A handler that runs until its signal fires, then throws the signal's reason. */
const untilAborted: SleepHandler = (_request, ctx) =>
  new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true }));

function setUp(extra: Partial<MethodDeclaration>, handler: SleepHandler) {
  const f = fixture([sleepMethod(handler, extra)]);
  const { executor } = executorOf(f);
  return { f, executor };
}

async function runDue(f: Fixture, executor: ReturnType<typeof executorOf>["executor"]): Promise<OperationRecord[]> {
  const claimed = await claimAll(f);
  executor.run(claimed);
  await until(() => executor.running.size === 0);
  return claimed;
}

async function mustGet(f: Fixture, id: string): Promise<OperationRecord> {
  const record = await f.store.get(id, f.clock.now());
  assert.ok(record, `${id} exists`);
  return record;
}

const errorCode = (record: OperationRecord) => record.error && fromBinary(StatusSchema, record.error.status).code;

describe("retry policy", () => {
  it("a retryable failure is queued again after its backoff, with the attempt and error visible; ctx.attempt counts up", async () => {
    const attempts: number[] = [];
    const { f, executor } = setUp({ retry: NO_JITTER }, failing([Code.UNAVAILABLE, Code.UNAVAILABLE], attempts));
    const op = await f.createQueued();
    const t0 = f.clock.now();
    await runDue(f, executor);
    let record = await mustGet(f, op.id);
    assert.equal(record.state, "queued");
    assert.equal(record.runAfter, t0 + 1_000, "initial backoff");
    assert.equal(record.lastFailure?.attempt, 1);
    assert.equal(record.lastFailure?.error.code, Code.UNAVAILABLE);
    assert.equal(record.lastFailure?.error.message, "attempt 1 failed");
    assert.deepEqual(await claimAll(f), [], "not before its backoff");
    await f.clock.advance(1_000);
    await runDue(f, executor);
    record = await mustGet(f, op.id);
    assert.equal(record.runAfter, t0 + 1_000 + 2_000, "multiplied");
    assert.equal(record.lastFailure?.attempt, 2);
    await f.clock.advance(2_000);
    await runDue(f, executor);
    record = await mustGet(f, op.id);
    assert.equal(record.state, "done");
    assert.ok(record.response, "the third attempt succeeded");
    assert.deepEqual(attempts, [1, 2, 3]);
    f.close();
  });

  it("a code the policy does not list ends the operation with it at once", async () => {
    const attempts: number[] = [];
    const { f, executor } = setUp({ retry: NO_JITTER }, failing([Code.INVALID_ARGUMENT], attempts));
    const op = await f.createQueued();
    await runDue(f, executor);
    const record = await mustGet(f, op.id);
    assert.equal(record.state, "done");
    assert.equal(errorCode(record), Code.INVALID_ARGUMENT);
    assert.equal(record.lastFailure, undefined);
    assert.deepEqual(attempts, [1]);
    f.close();
  });

  it("after maxAttempts the last failure ends the operation", async () => {
    const attempts: number[] = [];
    const { f, executor } = setUp({ retry: { ...NO_JITTER, maxAttempts: 2 } }, failing([Code.UNAVAILABLE, Code.UNAVAILABLE, Code.UNAVAILABLE], attempts));
    const op = await f.createQueued();
    await runDue(f, executor);
    await f.clock.advance(1_000);
    await runDue(f, executor);
    const record = await mustGet(f, op.id);
    assert.equal(record.state, "done");
    assert.equal(errorCode(record), Code.UNAVAILABLE);
    assert.deepEqual(attempts, [1, 2]);
    f.close();
  });

  it("without a policy a failure ends the operation (the default)", async () => {
    const attempts: number[] = [];
    const { f, executor } = setUp({}, failing([Code.UNAVAILABLE], attempts));
    const op = await f.createQueued();
    await runDue(f, executor);
    assert.equal(errorCode(await mustGet(f, op.id)), Code.UNAVAILABLE);
    assert.deepEqual(attempts, [1]);
    f.close();
  });

  it("a retry is not taken for an interruption: a method that is not retryable after interruptions still retries failures", async () => {
    const attempts: number[] = [];
    const { f, executor } = setUp({ retry: NO_JITTER, retryable: false }, failing([Code.UNAVAILABLE], attempts));
    const op = await f.createQueued();
    await runDue(f, executor);
    await f.clock.advance(1_000);
    await runDue(f, executor);
    const record = await mustGet(f, op.id);
    assert.ok(record.response, "attempt 2 ran and succeeded instead of ending ABORTED");
    assert.deepEqual(attempts, [1, 2]);
    f.close();
  });

  it("backoff: capped at maxBackoffMs, jitter takes up to its share off, never at or past the deadline", () => {
    const policy = resolveScheduling("m", { retry: { initialBackoffMs: 1_000, maxBackoffMs: 5_000, multiplier: 3, jitter: 0.5, maxAttempts: 10 } }, 3).retry;
    assert.equal(nextAttemptTime(policy, 1, Code.UNAVAILABLE, 0, undefined, () => 0), 1_000);
    assert.equal(nextAttemptTime(policy, 2, Code.UNAVAILABLE, 0, undefined, () => 0), 3_000);
    assert.equal(nextAttemptTime(policy, 3, Code.UNAVAILABLE, 0, undefined, () => 0), 5_000, "capped");
    assert.equal(nextAttemptTime(policy, 3, Code.UNAVAILABLE, 0, undefined, () => 0.9), 2_750, "half of it random");
    assert.equal(nextAttemptTime(policy, 1, Code.UNAVAILABLE, 0, 1_000, () => 0), undefined, "the deadline comes first");
    assert.equal(nextAttemptTime(policy, 10, Code.UNAVAILABLE, 0, undefined, () => 0), undefined, "no attempt left");
    assert.equal(nextAttemptTime(policy, 1, Code.CANCELLED, 0, undefined, () => 0), undefined);
    assert.equal(nextAttemptTime(undefined, 1, Code.UNAVAILABLE, 0, undefined, () => 0), undefined);
  });

  it("a bad policy is refused at start-up, naming the method", () => {
    assert.throws(() => resolveScheduling("a.B.C", { retry: { maxAttempts: 0 } }, 3), /a\.B\.C: retry\.maxAttempts/);
    assert.throws(() => resolveScheduling("a.B.C", { retry: { retryableCodes: [Code.CANCELLED] } }, 3), /CANCELLED is final/);
    assert.throws(() => resolveScheduling("a.B.C", { retry: { jitter: 2 } }, 3), /jitter/);
    assert.throws(() => resolveScheduling("a.B.C", { attemptTimeoutMs: 0 }, 3), /attemptTimeoutMs/);
  });
});

describe("timeouts and deadlines", () => {
  it("attemptTimeoutMs aborts the handler's signal with DEADLINE_EXCEEDED; the attempt fails so", async () => {
    const seen: { reason?: unknown } = {};
    const { f, executor } = setUp({ attemptTimeoutMs: 500 }, async (request, ctx) => {
      ctx.signal.addEventListener("abort", () => (seen.reason = ctx.signal.reason));
      return untilAborted(request, ctx);
    });
    const op = await f.createQueued();
    executor.run(await claimAll(f));
    await settle();
    await f.clock.advance(499);
    assert.equal(seen.reason === undefined, true);
    await f.clock.advance(1);
    await until(() => executor.running.size === 0);
    assert.ok(seen.reason instanceof RpcError);
    assert.equal(seen.reason.code, Code.DEADLINE_EXCEEDED);
    const record = await mustGet(f, op.id);
    assert.equal(errorCode(record), Code.DEADLINE_EXCEEDED);
    f.close();
  });

  it("a handler that returns after its attempt timed out does not succeed; with a policy, the timeout is retried", async () => {
    const attempts: number[] = [];
    const { f, executor } = setUp({ attemptTimeoutMs: 500, retry: NO_JITTER }, async (_request, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt === 1) await f.clock.sleep(600); // ignores its signal, returns late
      return { slept: { seconds: 1n } };
    });
    const op = await f.createQueued();
    executor.run(await claimAll(f));
    await settle();
    await f.clock.advance(600);
    await until(() => executor.running.size === 0);
    let record = await mustGet(f, op.id);
    assert.equal(record.state, "queued");
    assert.equal(record.lastFailure?.error.code, Code.DEADLINE_EXCEEDED);
    await f.clock.advance(1_000);
    await runDue(f, executor);
    record = await mustGet(f, op.id);
    assert.ok(record.response);
    assert.deepEqual(attempts, [1, 2]);
    f.close();
  });

  it("the deadline ends a running attempt DEADLINE_EXCEEDED, and no retry is scheduled past it", async () => {
    const attempts: number[] = [];
    const f = fixture([sleepMethod(async (request, ctx) => (attempts.push(ctx.attempt), untilAborted(request, ctx)), { retry: NO_JITTER, timeoutMs: 1_500 })]);
    const { executor } = executorOf(f);
    const starter = new Starter({ store: f.store, clock: f.clock, methods: f.methods, names: f.names, isStopping: () => false });
    const started = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    assert.equal(started.deadline, f.clock.now() + 1_500);
    executor.run(await claimAll(f));
    await settle();
    await f.clock.advance(1_500);
    await until(() => executor.running.size === 0);
    const record = await mustGet(f, started.id);
    assert.equal(record.state, "done", "a retry would start at or past the deadline: none");
    assert.equal(errorCode(record), Code.DEADLINE_EXCEEDED);
    assert.match(record.error?.message ?? "", /deadline/);
    assert.deepEqual(attempts, [1]);
    f.close();
  });

  it("an operation claimed past its deadline ends DEADLINE_EXCEEDED without running", async () => {
    const attempts: number[] = [];
    const f = fixture([sleepMethod(failing([], attempts), { timeoutMs: 100 })]);
    const { executor } = executorOf(f);
    const starter = new Starter({ store: f.store, clock: f.clock, methods: f.methods, names: f.names, isStopping: () => false });
    const started = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    await f.clock.advance(100);
    await runDue(f, executor);
    const record = await mustGet(f, started.id);
    assert.equal(errorCode(record), Code.DEADLINE_EXCEEDED);
    assert.deepEqual(attempts, []);
    f.close();
  });
});

describe("start time", () => {
  it("schedule's startTime delays the first claim; timeoutMs counts from it; a deadline before it is INVALID_ARGUMENT", async () => {
    let plan: { startTime?: Date; deadline?: Date } = {};
    const attempts: number[] = [];
    const f = fixture([sleepMethod(failing([], attempts), { timeoutMs: 10_000, schedule: () => plan })]);
    const { executor } = executorOf(f);
    const starter = new Starter({ store: f.store, clock: f.clock, methods: f.methods, names: f.names, isStopping: () => false });
    const now = f.clock.now();
    plan = { startTime: new Date(now + 60_000) };
    const delayed = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    assert.equal(delayed.state, "queued");
    assert.equal(delayed.runAfter, now + 60_000);
    assert.equal(delayed.deadline, now + 70_000, "timeoutMs after the start time");
    assert.deepEqual(await claimAll(f), []);
    plan = { deadline: new Date(now + 5_000) };
    const early = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    assert.equal(early.deadline, now + 5_000, "the request's deadline, sooner than timeoutMs");
    plan = { startTime: new Date(now + 1_000), deadline: new Date(now + 1_000) };
    await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema)), (err: RpcError) => err.code === Code.INVALID_ARGUMENT);
    await f.clock.advance(60_000);
    // `early` is past its deadline now and ends without running; `delayed` runs.
    await runDue(f, executor);
    assert.ok((await mustGet(f, delayed.id)).response);
    assert.equal(errorCode(await mustGet(f, early.id)), Code.DEADLINE_EXCEEDED);
    assert.deepEqual(attempts, [1]);
    f.close();
  });
});

describe("priority", () => {
  it("the method's, or the start's own from schedule(); higher claimed first; out of range is INVALID_ARGUMENT", async () => {
    let plan: { priority?: number } = {};
    const f = fixture([sleepMethod(failing([], []), { priority: 2, schedule: () => plan })]);
    const starter = new Starter({ store: f.store, clock: f.clock, methods: f.methods, names: f.names, isStopping: () => false });
    const byMethod = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    plan = { priority: 7 };
    const urgent = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    plan = { priority: 0 };
    const plain = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    assert.equal(byMethod.priority, 2);
    assert.equal(urgent.priority, 7);
    assert.equal(plain.priority, undefined, "0 is not kept");
    const claimed = await f.store.claim({ owner: "w", methods: [SLEEP], limit: 3, leaseMs: 30_000, now: f.clock.now() });
    assert.deepEqual(claimed.map((r) => r.id), [urgent.id, byMethod.id, plain.id]);
    plan = { priority: 1.5 };
    await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema)), (err: RpcError) => err.code === Code.INVALID_ARGUMENT);
    assert.throws(() => resolveScheduling("a.B.C", { priority: 2_000_000 }, 3), /a\.B\.C: priority/);
    f.close();
  });
});

describe("fairness", () => {
  it("a key's backlog does not hold back another key's arrivals; the key is the method's choice; ratePerSecond spaces starts", async () => {
    const f = fixture([sleepMethod(failing([], []), { fairness: { key: (request) => ((request as SleepRequest).duration?.seconds === 1n ? "b" : "a"), quantumMs: 10 } })]);
    const starter = new Starter({ store: f.store, clock: f.clock, methods: f.methods, names: f.names, isStopping: () => false });
    const tenantA = await starter.startOperations(SLEEP, Array.from({ length: 20 }, () => create(SleepRequestSchema)));
    await f.clock.advance(5);
    const tenantB = await starter.startOperations(SLEEP, [create(SleepRequestSchema, { duration: { seconds: 1n } }), create(SleepRequestSchema, { duration: { seconds: 1n } })]);
    const first = await f.store.claim({ owner: "w", methods: [SLEEP], limit: 4, leaseMs: 30_000, now: f.clock.now() });
    const b = new Set(tenantB.map((r) => r.id));
    assert.equal(first.filter((r) => b.has(r.id)).length, 2, "both of b's in the first batch of 4, ahead of a's backlog of 20");
    assert.equal(tenantA[19]!.fairTime, tenantA[0]!.fairTime! + 190);
    f.close();

    const g = fixture([sleepMethod(failing([], []), { fairness: { ratePerSecond: 2 } })]);
    const limited = new Starter({ store: g.store, clock: g.clock, methods: g.methods, names: g.names, isStopping: () => false });
    const started = await limited.startOperations(SLEEP, [create(SleepRequestSchema), create(SleepRequestSchema), create(SleepRequestSchema)]);
    assert.deepEqual(started.map((r) => r.runAfter - g.clock.now()), [0, 500, 1000], "two a second: due times 500 ms apart");
    g.close();
  });
});

describe("interruptions and the retry policy", () => {
  /** Claims as `worker-a`, lets that lease run out (its worker lost), then claims as `worker-b` and runs. */
  async function interruptThenRun(f: Fixture, executor: ReturnType<typeof executorOf>["executor"]): Promise<void> {
    await f.store.claim({ owner: "lost", methods: [SLEEP], limit: 10, leaseMs: 1000, now: f.clock.now() });
    await f.clock.advance(1000);
    await runDue(f, executor);
  }

  it("countInterruptions: false — a lost worker's attempt is not one of maxAttempts; true (the default) — it is", async () => {
    for (const countInterruptions of [false, true]) {
      const attempts: number[] = [];
      const f = fixture([sleepMethod(failing([Code.UNAVAILABLE, Code.UNAVAILABLE, Code.UNAVAILABLE], attempts), { retry: { ...NO_JITTER, maxAttempts: 2, countInterruptions } })]);
      const { executor } = executorOf(f);
      const op = await f.createQueued();
      await interruptThenRun(f, executor); // attempt 1 lost; attempt 2 fails
      await f.clock.advance(2_000);
      await runDue(f, executor);
      const record = await mustGet(f, op.id);
      assert.equal(record.state, "done", String(countInterruptions));
      assert.equal(record.interruptions, 1);
      assert.deepEqual(attempts, countInterruptions ? [2] : [2, 3], `countInterruptions ${countInterruptions}: the attempts its handler ran`);
      f.close();
    }
  });

  it("not counted, interruptions alone are still bounded by the method's maxAttempts: a crash loop ends ABORTED", async () => {
    const attempts: number[] = [];
    const f = fixture([sleepMethod(failing([], attempts), { maxAttempts: 2, retry: { ...NO_JITTER, countInterruptions: false } })]);
    const { executor } = executorOf(f);
    const op = await f.createQueued();
    for (let i = 0; i < 2; i++) {
      await f.store.claim({ owner: "lost", methods: [SLEEP], limit: 10, leaseMs: 1000, now: f.clock.now() });
      await f.clock.advance(1_000);
    }
    await runDue(f, executor);
    const record = await mustGet(f, op.id);
    assert.equal(errorCode(record), Code.ABORTED);
    assert.match(record.error?.message ?? "", /interrupted 2 times/);
    assert.deepEqual(attempts, []);
    f.close();
  });
});
