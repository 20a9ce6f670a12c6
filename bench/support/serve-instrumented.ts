/**
 * `longrun serve`, unchanged, with two instruments the parent drives over the IPC channel
 * (bench/support/server-process.ts):
 * - a count of every Store method call and the time its promise took to settle, so a benchmark can tell how
 *   many reads and writes the server made per phase (WaitOperation's reads before watching and after
 *   waking, say) on either store, and how long they took;
 * - process.memoryUsage(), optionally after a full garbage collection, to tell what is alive from what V8
 *   has not collected yet, and the JavaScript heap from native memory;
 * - V8's CPU profiler (the one `node --cpu-prof` runs) started and stopped on request, so a profile covers
 *   the measured load only, not the process's start (module loading and compiling are most of a short one);
 * - V8's sampling heap profiler, likewise: what is still alive of what was allocated in a window, by stack.
 *
 *   node --import tsx bench/support/serve-instrumented.ts serve --demo …   (with an IPC channel)
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { PostgresStore, SqliteStore } from "../../src/index.js";
import type { InstrumentReply, InstrumentRequest, StoreCalls } from "./server-process.js";

let calls: StoreCalls = {};

type Method = (this: unknown, ...args: unknown[]) => unknown;

// The classes are the very modules the CLI imports (one module instance per URL), so wrapping their
// prototypes here counts the server's own calls. Every method is wrapped, whatever the store grows, and
// inherited ones too (a base class shared by the stores): each wrapper sits on the store's own prototype,
// so a method that calls its base class's version through `super` counts once.
for (const prototype of [SqliteStore.prototype, PostgresStore.prototype] as object[]) {
  const methods = prototype as Record<string, Method>;
  for (const name of methodNames(prototype)) {
    const original = methods[name] as unknown;
    if (typeof original !== "function") continue;
    const method = original as Method;
    methods[name] = function (this: unknown, ...args: unknown[]): unknown {
      calls[name] = (calls[name] ?? 0) + 1;
      if (Array.isArray(args[0])) calls[`${name}.items`] = (calls[`${name}.items`] ?? 0) + args[0].length;
      const began = performance.now();
      const result = method.apply(this, args);
      if (result instanceof Promise) {
        // The time to settle: the database's work, and the wait for a pooled connection before it.
        void result.then(
          () => addTime(name, performance.now() - began),
          () => addTime(name, performance.now() - began),
        );
      }
      return result;
    };
  }
}

/** Method names along the prototype chain, up to (not including) Object.prototype; no constructors, no accessors. */
function methodNames(prototype: object): Set<string> {
  const names = new Set<string>();
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== "constructor" && typeof Object.getOwnPropertyDescriptor(p, name)?.value === "function") names.add(name);
    }
  }
  return names;
}

function addTime(name: string, ms: number): void {
  calls[`${name}.ms`] = (calls[`${name}.ms`] ?? 0) + ms;
  calls[`${name}.maxMs`] = Math.max(calls[`${name}.maxMs`] ?? 0, ms);
}

/** One inspector session for both profilers, opened on first use. */
let inspector: Session | undefined;

function session(): Session {
  if (!inspector) {
    inspector = new Session();
    inspector.connect();
  }
  return inspector;
}

/** Bytes between heap samples: finer than V8's default 32 KiB, so objects of a few hundred bytes show. */
const HEAP_SAMPLING_INTERVAL_BYTES = 4096;

async function answer(request: InstrumentRequest): Promise<InstrumentReply> {
  switch (request.kind) {
    case "store-calls": {
      const storeCalls = calls;
      calls = {};
      return { kind: "store-calls", storeCalls };
    }
    case "memory":
      // A full collection first, when asked: the heap then holds what is alive, not what V8 has yet to collect.
      if (request.collectGarbage) await session().post("HeapProfiler.collectGarbage");
      return { kind: "memory", memory: process.memoryUsage() };
    case "cpu-profile-start":
      await session().post("Profiler.enable");
      await session().post("Profiler.start");
      return { kind: "cpu-profile-start" };
    case "cpu-profile-stop": {
      const { profile } = await session().post("Profiler.stop");
      writeFileSync(request.path, JSON.stringify(profile));
      return { kind: "cpu-profile-stop" };
    }
    case "heap-profile-start":
      await session().post("HeapProfiler.enable");
      await session().post("HeapProfiler.startSampling", { samplingInterval: HEAP_SAMPLING_INTERVAL_BYTES });
      return { kind: "heap-profile-start" };
    case "heap-profile-stop": {
      // What is still alive of what was allocated since the start, by allocating stack.
      const { profile } = await session().post("HeapProfiler.getSamplingProfile");
      await session().post("HeapProfiler.stopSampling");
      writeFileSync(request.path, JSON.stringify(profile));
      return { kind: "heap-profile-stop" };
    }
  }
}

process.on("message", (message: InstrumentRequest) => {
  answer(message).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ kind: "error", message: error instanceof Error ? error.message : String(error) }),
  );
});
// The IPC channel must not keep the server alive after its own shutdown.
process.channel?.unref();

await import("../../src/cli/main.js");
