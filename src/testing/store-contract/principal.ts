import assert from "node:assert/strict";
import type { OperationRecord } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, SLEEP, LEASE, RETENTION, RESPONSE, newOp, ids, refs } from "./fixtures.js";

const ALICE = "user:alice";
const CI = "serviceAccount:ci@example";

/**
 * Who started an operation: the principal given at create is kept as given, read back by every read and
 * every claim (a retry's too, since the handler of each attempt acts for the same caller), and never
 * changes; without one, it stays undefined.
 */
export function principals(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running } = c;

  const principalsOf = (records: readonly ({ principal: string | undefined } | undefined)[]) => records.map((r) => r?.principal);
  const claim = (owner: string, now: number) => c.store.claim({ owner, methods: [SLEEP], limit: 10, leaseMs: LEASE, now });

  describe("principal", () => {
    it("comes back from create, get, getViews and list as given; absent stays undefined", async () => {
      const created = await c.store.create([newOp("alice", { principal: ALICE }), newOp("anonymous"), newOp("none", { principal: undefined })], T);
      assert.deepEqual(principalsOf(created.map((r) => r.record)), [ALICE, undefined, undefined]);
      assert.equal((await mustGet("alice")).principal, ALICE);
      assert.equal((await mustGet("anonymous")).principal, undefined);
      assert.ok("principal" in (await mustGet("anonymous")), "an absent principal is a property holding undefined, as every optional field");
      assert.deepEqual(principalsOf(await c.store.getViews(["anonymous", "alice", "missing", "none"], T)), [undefined, ALICE, undefined, undefined]);
      const listed = await c.store.list({ parent: "", limit: 10, now: T });
      assert.deepEqual(new Map(listed.map((r) => [r.id, r.principal])), new Map([["alice", ALICE], ["anonymous", undefined], ["none", undefined]]));
    });

    it("a batch keeps each operation's own principal", async () => {
      const created = await c.store.create([newOp("a", { principal: ALICE }), newOp("b", { principal: CI }), newOp("c"), newOp("d", { principal: ALICE })], T);
      assert.deepEqual(principalsOf(created.map((r) => r.record)), [ALICE, CI, undefined, ALICE]);
      const views = await c.store.getViews(["d", "c", "b", "a"], T);
      assert.deepEqual(principalsOf(views), [ALICE, undefined, CI, ALICE]);
    });

    it("is carried by every claim: the first, a retry after a lost lease, and one after a release", async () => {
      await c.store.create([newOp("alice", { principal: ALICE }), newOp("anonymous")], T);
      const first = await claim("worker-a", T);
      assert.deepEqual(byId(first), { alice: [1, ALICE], anonymous: [1, undefined] });

      // worker-a's lease runs out: worker-b retries both.
      const retried = await claim("worker-b", T + LEASE);
      assert.deepEqual(byId(retried), { alice: [2, ALICE], anonymous: [2, undefined] });

      await c.store.release("worker-b", retried.map(({ id, attempt }) => ({ id, attempt })), T + LEASE + 1, T + LEASE + 1);
      const reclaimed = await claim("worker-c", T + LEASE + 1);
      assert.deepEqual(byId(reclaimed), { alice: [3, ALICE], anonymous: [3, undefined] });
    });

    it("is never changed by what follows: progress, cancel, control, finish", async () => {
      await running("op-1", "worker-a", T, { principal: ALICE });
      await c.store.progress([{ id: "op-1", attempt: 1, metadata: RESPONSE }], T + 1);
      const [cancelled] = await c.store.requestCancel(refs("op-1"), T + 2);
      const [controlled] = await c.store.requestControl(refs("op-1"), "pause", T + 3);
      assert.deepEqual(principalsOf([cancelled, controlled]), [ALICE, ALICE]);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 1, response: RESPONSE }], RETENTION, T + 4), [true]);
      assert.equal((await mustGet("op-1", T + 4)).principal, ALICE);
      assert.deepEqual(principalsOf(await c.store.getViews(["op-1"], T + 4)), [ALICE]);
    });

    it("a repeated (method, requestId) returns the first start's principal, not the repeater's", async () => {
      await c.store.create([newOp("first", { requestId: "req-1", principal: ALICE })], T);
      const [again] = await c.store.create([newOp("second", { requestId: "req-1", principal: CI })], T + 1);
      assert.deepEqual([again?.created, again?.record.id, again?.record.principal], [false, "first", ALICE]);
      const [anonymousAgain] = await c.store.create([newOp("third", { requestId: "req-1" })], T + 2);
      assert.equal(anonymousAgain?.record.principal, ALICE);
    });

    it("keeps any storable string exactly, up to 1024 characters", async () => {
      const kept = ["", "user:zoë@例え.jp", "user:🦀", `user:${"x".repeat(1019)}`, "'; DROP TABLE operations; --", "a\\b\"c"];
      assert.equal(kept[3]?.length, 1024);
      await c.store.create(kept.map((principal, i) => newOp(`op-${i}`, { principal })), T);
      assert.deepEqual(principalsOf(await c.store.getViews(kept.map((_, i) => `op-${i}`), T)), kept);
    });

    it("refuses a principal longer than 1024 characters, not a string, or holding NUL or a lone surrogate: none of the batch is created", async () => {
      const refused: [string, unknown][] = [
        ["1025 characters", `user:${"x".repeat(1020)}`],
        ["a number", 42],
        ["null", null],
        ["a NUL", "user:a\u0000b"],
        ["a lone high surrogate", "user:\ud83e"],
        ["a lone low surrogate", "user:\udd80x"],
      ];
      for (const [what, principal] of refused) {
        const batch = [newOp("fine", { principal: ALICE }), { ...newOp("bad"), principal: principal as string }];
        await assert.rejects(c.store.create(batch, T), TypeError, `a principal of ${what} is refused`);
        assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T })), []);
      }
    });
  });
}

/** Claimed records by id: [attempt, principal]. */
function byId(records: readonly OperationRecord[]): Record<string, [number, string | undefined]> {
  return Object.fromEntries(records.map((r) => [r.id, [r.attempt, r.principal]]));
}
