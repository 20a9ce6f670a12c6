import type { ChangeEvent } from "../store/store.js";
import type { Claimer } from "./claimer.js";
import type { Executor } from "./executor.js";
import type { Leases } from "./leases.js";

/** The worker's parts that the change feed wakes. */
export interface WorkerParts {
  claimer: Claimer;
  executor: Executor;
  leases: Leases;
}

/**
 * Turns the store's change feed into work for this instance's worker: new or released operations wake
 * the claim loop, and so do finished ones when a concurrency limit held work back; cancellations and
 * control commands reach the handlers running here; after a gap in the feed (`resync`), everything is
 * looked at again.
 */
export function dispatchChange(event: ChangeEvent, { claimer, executor, leases }: WorkerParts): void {
  switch (event.kind) {
    case "created":
    case "released":
      claimer.wake();
      break;
    case "done":
      // Slots of limited methods may be free (only claimers that left work behind for a limit act on it).
      claimer.limitedDone();
      break;
    case "cancel-requested":
      for (const id of event.ids) {
        const running = executor.running.get(id);
        if (running) executor.cancel(running);
      }
      break;
    case "control-requested": {
      // The event names the operations, not the command: read it (one statement for all of them).
      const here = event.ids.flatMap((id) => executor.running.get(id) ?? []);
      if (here.length > 0) void leases.heartbeat(here);
      break;
    }
    case "resync":
      // Events may have been missed: look for work, and for cancellations of what runs here.
      claimer.wake();
      void leases.heartbeat();
      break;
    default:
      break;
  }
}
