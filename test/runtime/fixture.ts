// Runtime parts over a real SQLite file, with a manual clock: what each part's unit test builds on.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, type Registry } from "@bufbuild/protobuf";
import { buildRegistry } from "../../src/core/registry.js";
import { OperationNames } from "../../src/core/names.js";
import { defineMethod, type MethodDeclaration, type OperationContext } from "../../src/runtime/methods.js";
import { MethodRegistry } from "../../src/runtime/registry.js";
import { ResultWriter } from "../../src/runtime/writer.js";
import { Executor, type OperationLimits } from "../../src/runtime/executor.js";
import type { RuntimeMetrics } from "../../src/runtime/metrics.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { OperationRecord, Store } from "../../src/store/store.js";
import { Demo, SleepRequestSchema, SleepMetadataSchema, SleepResponseSchema, type SleepRequest, type SleepResponse } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ManualClock } from "../support/manual-clock.js";

export const SLEEP = "longrun.demo.v1.Demo.Sleep";

export type SleepHandler = (
  request: SleepRequest,
  ctx: OperationContext<typeof SleepMetadataSchema>,
) => Promise<MessageInitShape<typeof SleepResponseSchema> | SleepResponse>;

export function sleepMethod(handler: SleepHandler, extra: Partial<MethodDeclaration> = {}): MethodDeclaration {
  return { ...defineMethod({ method: Demo.method.sleep, response: SleepResponseSchema, metadata: SleepMetadataSchema, handler }), ...extra };
}

export interface Fixture {
  store: SqliteStore;
  clock: ManualClock;
  registry: Registry;
  names: OperationNames;
  methods: MethodRegistry;
  logged: string[];
  log: (message: string, err?: unknown) => void;
  /**
   * A queued operation of Demo/Sleep, created directly in the store (started by `principal`, belonging to
   * `resource`, if given; named under `parent`, "" unless given).
   */
  createQueued(id?: string, options?: { principal?: string; resource?: string; parent?: string }): Promise<OperationRecord>;
  close(): void;
}

let counter = 0;

export function fixture(declarations: readonly MethodDeclaration[], store?: (path: string) => SqliteStore): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "longrun-runtime-"));
  const path = join(dir, "runtime.db");
  // Commits answered at once (NORMAL): these tests count turns of the event loop, and the default's fsync
  // before an answer (wal-sync.ts) takes real time, which turns do not measure. The stores' own tests and
  // the servers' run the default.
  const sqlite = store ? store(path) : SqliteStore.open(path, { synchronous: "NORMAL" });
  const clock = new ManualClock();
  const registry = buildRegistry([Demo.file]);
  const names = new OperationNames();
  const methods = new MethodRegistry(declarations, registry, names);
  const logged: string[] = [];
  const log = (message: string, err?: unknown) => void logged.push(err === undefined ? message : `${message}: ${String(err)}`);
  return {
    store: sqlite,
    clock,
    registry,
    names,
    methods,
    logged,
    log,
    async createQueued(id = `op${++counter}`, options = {}) {
      const codec = methods.require(SLEEP).codec;
      const [result] = await sqlite.create(
        [
          {
            id,
            name: names.format(options.parent ?? "", id),
            parent: options.parent ?? "",
            method: SLEEP,
            requestId: undefined,
            request: new Uint8Array(),
            principal: options.principal,
            resource: options.resource,
            metadata: codec.encode(codec.initial(clock.now())),
            runAfter: clock.now(),
          },
        ],
        clock.now(),
      );
      return result!.record;
    },
    close() {
      void sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A writer and an executor over the fixture's store, as the runtime composes them. */
export function executorOf(
  f: Fixture,
  options: { concurrency?: number; onSlotFreed?: () => void; store?: Store; limits?: OperationLimits; metrics?: RuntimeMetrics; owner?: string; random?: () => number } = {},
) {
  const store = options.store ?? f.store;
  const metrics = options.metrics ? { metrics: options.metrics } : {};
  const writer = new ResultWriter({ store, clock: f.clock, log: f.log, retentionMs: 60_000, owner: options.owner ?? "worker-a", isStopping: () => false, ...metrics });
  const executor = new Executor({
    methods: f.methods,
    registry: f.registry,
    writer,
    store,
    clock: f.clock,
    log: f.log,
    concurrency: options.concurrency ?? 8,
    onSlotFreed: options.onSlotFreed ?? (() => undefined),
    ...(options.random ? { random: options.random } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...metrics,
  });
  return { writer, executor };
}

/** Claims everything due for `owner` now (as the claim loop would). */
export function claimAll(f: Fixture, owner = "worker-a", leaseMs = 30_000): Promise<OperationRecord[]> {
  return f.store.claim({ owner, methods: [SLEEP], limit: 100, leaseMs, now: f.clock.now() });
}

/**
 * The store with some of its methods replaced (to count, fail or watch calls); the others are the store's
 * own, bound to it.
 */
export function storeWith(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof Store];
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** A promise with its resolve and reject, for handlers the test finishes by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

export { create, SleepRequestSchema };
