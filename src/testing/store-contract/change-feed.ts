import assert from "node:assert/strict";
import type { OperationRecord } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, SLEEP, LEASE, RETENTION, anyOf, RESPONSE, ERROR, newOp, ids, refs } from "./fixtures.js";

/**
 * The change feed: one event per write call naming each changed operation once, delivered after the
 * change is visible, surviving a listener that throws; and closing.
 */
export function changeFeed(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, recordEvents } = c;

  describe("change events", () => {
    it("announces each kind of write once per call, with the ids it changed", async () => {
      const events = recordEvents();
      await c.store.create([newOp("a", { requestId: "r" }), newOp("b"), newOp("c"), newOp("d")], T);
      await c.store.create([newOp("dup", { requestId: "r" })], T); // nothing created: no event
      await c.store.claim({ owner: "w", methods: [SLEEP], limit: 3, leaseMs: LEASE, now: T }); // a, b, c: no event kind
      await c.store.progress(
        [
          { id: "a", attempt: 1, metadata: anyOf("t/M", 1) },
          { id: "b", attempt: 9, metadata: anyOf("t/M", 1) },
          { id: "c", attempt: 1, metadata: anyOf("t/M", 1) },
        ],
        T,
      );
      await c.store.requestCancel(refs("b", "missing"), T);
      await c.store.finish(
        [
          { id: "a", attempt: 1, response: RESPONSE },
          { id: "b", attempt: 9, error: ERROR },
          { id: "d", attempt: 0, error: ERROR },
        ],
        RETENTION,
        T,
      );
      await c.store.requestCancel(refs("a"), T); // done: nothing to cancel, no event
      await c.store.requestControl(refs("c", "a", "c"), "pause", T); // a is done
      await c.store.requestControl(refs("a"), "pause", T); // done: no event
      await c.store.release("w", [{ id: "b", attempt: 1 }, { id: "c", attempt: 7 }], T, T);
      await c.store.release("w", [{ id: "c", attempt: 7 }], T, T); // nothing released: no event
      await c.store.heartbeat("w", [{ id: "c", attempt: 1 }], LEASE, T);
      await c.store.delete(["a", "zzz", "c"]);
      await c.store.delete(["zzz"]);

      assert.deepEqual(events, [
        { kind: "created", ids: ["a", "b", "c", "d"] },
        { kind: "progress", ids: ["a", "c"] },
        { kind: "cancel-requested", ids: ["b"] },
        { kind: "done", ids: ["a", "d"] },
        { kind: "control-requested", ids: ["c"] },
        { kind: "released", ids: ["b"] },
        { kind: "deleted", ids: ["a", "c"] },
      ]);
    });

    it("names each operation once per event, and answers per input, when a batch repeats an id", async () => {
      const events = recordEvents();
      await c.store.create([newOp("a"), newOp("b")], T);
      await c.store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now: T });
      const m = (n: number) => anyOf("t/M", n);
      // Two updates of one attempt both apply, the last one's metadata standing; a stale attempt does not.
      assert.deepEqual(
        await c.store.progress(
          [
            { id: "a", attempt: 1, metadata: m(1) },
            { id: "b", attempt: 1, metadata: m(2) },
            { id: "a", attempt: 1, metadata: m(3) },
            { id: "a", attempt: 2, metadata: m(4) },
          ],
          T + 1,
        ),
        [true, true, true, false],
      );
      assert.deepEqual((await mustGet("a", T + 1)).metadata, m(3));
      assert.deepEqual(await c.store.heartbeat("w", [{ id: "a", attempt: 1 }, { id: "a", attempt: 1 }], LEASE, T + 1).then((r) => r.map((h) => h.held)), [true, true]);
      assert.deepEqual(ids(await c.store.getViews(["a", "missing", "a"], T + 1)), ["a", undefined, "a"]);
      assert.deepEqual(ids(await c.store.requestCancel(refs("b", "missing", "b", "a"), T + 2)), ["b", undefined, "b", "a"]);
      assert.deepEqual(ids(await c.store.requestControl(refs("a", "a"), "pause", T + 2)), ["a", "a"]);
      // Of several results for one operation only the first that matches its attempt applies.
      assert.deepEqual(
        await c.store.finish(
          [
            { id: "a", attempt: 2, response: RESPONSE },
            { id: "a", attempt: 1, error: ERROR },
            { id: "a", attempt: 1, response: RESPONSE },
          ],
          RETENTION,
          T + 3,
        ),
        [false, true, false],
      );
      assert.equal((await mustGet("a", T + 3)).error?.code, ERROR.code);
      await c.store.release("w", [{ id: "b", attempt: 1 }, { id: "b", attempt: 1 }], T, T + 4);
      assert.deepEqual(await c.store.delete(["b", "a", "missing", "b", "a"]), ["b", "a"]);
      assert.deepEqual(events, [
        { kind: "created", ids: ["a", "b"] },
        { kind: "progress", ids: ["a", "b"] },
        { kind: "cancel-requested", ids: ["b", "a"] },
        { kind: "control-requested", ids: ["a"] },
        { kind: "done", ids: ["a"] },
        { kind: "released", ids: ["b"] },
        { kind: "deleted", ids: ["b", "a"] },
      ]);
    });

    it("delivers an event when the change is already visible to readers", async () => {
      const seen: Promise<OperationRecord | undefined>[] = [];
      c.store.subscribe((event) => {
        if (event.kind === "done") seen.push(c.store.get(event.ids[0]!, T + 1));
      });
      await c.store.create([newOp("op-1")], T);
      await c.store.finish([{ id: "op-1", attempt: 0, response: RESPONSE }], RETENTION, T + 1);
      assert.equal(seen.length, 1);
      assert.equal((await seen[0])?.state, "done");
    });

    it("stops delivering to a listener once unsubscribed", async () => {
      const kept: string[] = [];
      const dropped: string[] = [];
      c.store.subscribe((event) => kept.push(event.kind));
      const unsubscribe = c.store.subscribe((event) => dropped.push(event.kind));
      await c.store.create([newOp("a")], T);
      unsubscribe();
      unsubscribe(); // idempotent
      await c.store.delete(["a"]);
      assert.deepEqual(kept, ["created", "deleted"]);
      assert.deepEqual(dropped, ["created"]);
    });

    it("keeps working when a listener throws: the write stands and other listeners still hear of it", async () => {
      const heard: string[] = [];
      c.store.subscribe(() => {
        throw new Error("listener failure (expected by the test)");
      });
      c.store.subscribe((event) => heard.push(...event.ids));
      const [result] = await c.store.create([newOp("a")], T);
      assert.equal(result?.created, true);
      assert.ok(await c.store.get("a", T));
      assert.deepEqual(await c.store.delete(["a"]), ["a"]);
      assert.deepEqual(heard, ["a", "a"]);
    });
  });

  describe("close", () => {
    it("is idempotent", async () => {
      await c.store.close();
      await c.store.close();
    });
  });
}
