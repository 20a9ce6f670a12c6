import { afterEach, beforeEach, describe, it } from "node:test";
import type { Store } from "../../store/store.js";
import { cancelAndControl } from "./cancel-control.js";
import { changeFeed } from "./change-feed.js";
import { claimAndLeases } from "./claim-leases.js";
import { contractOver, type TestFunctions } from "./context.js";
import { counting } from "./counts.js";
import { createGetDelete } from "./create-get-delete.js";
import { listing } from "./list.js";
import { outbox } from "./outbox.js";
import { activity } from "./activity.js";
import { principals } from "./principal.js";
import { progressAndFinish } from "./progress-finish.js";
import { resources } from "./resource.js";
import { retention } from "./retention.js";
import { retryOfs } from "./retry-of.js";
import { scheduling } from "./scheduling.js";
import { concurrency } from "./concurrency.js";
import { timeline } from "./timeline.js";
import { traceContexts } from "./trace-context.js";

export interface StoreContractOptions {
  /** A fresh, empty store, opened for each test. */
  open(): Promise<Store>;
  /**
   * Called after each test with the store `open` gave (some tests close it themselves first: closing must
   * be idempotent). @default store.close()
   */
  close?(store: Store): Promise<void>;
  /** The test functions to register with. @default node:test's describe, it, beforeEach, afterEach */
  test?: TestFunctions;
}

/**
 * Registers the Store contract suite for one store: every behaviour the runtime and the Operations service
 * rely on, through the Store interface only, under `describe("Store contract: <name>")`. A store passes
 * when every test does. The tests move time themselves (`now` from 2023-11-14), so the store must take
 * time only from its arguments.
 *
 * ```ts
 * import { runStoreContract } from "longrun/testing";
 * runStoreContract("MyStore", { open: () => MyStore.open(...), close: (store) => store.close() });
 * ```
 */
export function runStoreContract(name: string, options: StoreContractOptions): void {
  const test = options.test ?? { describe, it, beforeEach, afterEach };
  const close = options.close ?? ((store: Store) => store.close());
  let store: Store | undefined;
  const c = contractOver(test, () => {
    if (store === undefined) throw new Error("the store contract's store is only open while a test runs");
    return store;
  });

  test.describe(`Store contract: ${name}`, () => {
    test.beforeEach(async () => {
      store = await options.open();
    });
    test.afterEach(async () => {
      const done = store;
      store = undefined;
      if (done !== undefined) await close(done);
    });

    createGetDelete(c);
    listing(c);
    retention(c);
    cancelAndControl(c);
    claimAndLeases(c);
    progressAndFinish(c);
    changeFeed(c);
    principals(c);
    resources(c);
    traceContexts(c);
    retryOfs(c);
    outbox(c);
    activity(c);
    counting(c);
    scheduling(c);
    concurrency(c);
    timeline(c);
  });
}
