import assert from "node:assert/strict";
import type { ChangeEvent, NewOperation, OperationRecord, Store } from "../../store/store.js";
import { T, SLEEP, LEASE, newOp, ids } from "./fixtures.js";

/**
 * The test functions the contract registers its tests with. node:test's `describe`, `it`, `beforeEach` and
 * `afterEach` are the default; any runner with the same four (Vitest, Jest, Mocha's BDD interface) fits.
 */
export interface TestFunctions {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  beforeEach(fn: () => Promise<void>): unknown;
  afterEach(fn: () => Promise<void>): unknown;
}

/** What each topic file of the contract registers its tests through. */
export interface Contract {
  readonly test: TestFunctions;
  /** The store of the test running now: a fresh, empty one per test. */
  readonly store: Store;
  /** The operation, failing the test if it does not exist at `now`. */
  mustGet(id: string, now?: number): Promise<OperationRecord>;
  /**
   * Creates one operation and claims it; returns the claimed record. Call it before creating other due
   * operations of the same method, or the claim may pick one of those.
   */
  running(id: string, owner?: string, now?: number, overrides?: Partial<NewOperation>): Promise<OperationRecord>;
  /** Records every change event from now on. */
  recordEvents(): ChangeEvent[];
}

/** The Contract over `current()`, the store of the test running now. */
export function contractOver(test: TestFunctions, current: () => Store): Contract {
  return {
    test,
    get store() {
      return current();
    },
    async mustGet(id, now = T) {
      const record = await current().get(id, now);
      assert.ok(record, `operation ${id} should exist`);
      return record;
    },
    async running(id, owner = "worker-a", now = T, overrides = {}) {
      const store = current();
      await store.create([newOp(id, { runAfter: now, ...overrides })], now);
      const claimed = await store.claim({ owner, methods: [overrides.method ?? SLEEP], limit: 1, leaseMs: LEASE, now });
      assert.deepEqual(ids(claimed), [id]);
      return claimed[0]!;
    },
    recordEvents() {
      const events: ChangeEvent[] = [];
      current().subscribe((event) => events.push({ kind: event.kind, ids: [...event.ids] }));
      return events;
    },
  };
}
