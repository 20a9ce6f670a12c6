/**
 * How a client follows an operation to its end: one WaitOperation, or google-gax's default polling (and
 * what gax's schedule alone would cost); plus the calls that start, warm up and cancel.
 */
import type * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack, durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { createDefaultBackoffSettings } from "google-gax";
import { Operations, OperationSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { encodeRequest, methodPath, rawCall } from "../support/grpc-raw.js";
import { sleep } from "../support/measure.js";
import type { Completion, Followed } from "./results.js";

export const GAX_LRO_BACKOFF = createDefaultBackoffSettings();
/** How long a Wait may block: far beyond the run, so every Wait ends because its operation is done. */
export const WAIT_TIMEOUT_MS = 300_000;
/** A Demo/Sleep that never ends by itself within a run (in cancel mode no handler runs anyway). */
export const HOUR_MS = 3_600_000;

export const PATHS = {
  sleep: methodPath(Demo.method.sleep),
  wait: methodPath(Operations.method.waitOperation),
  get: methodPath(Operations.method.getOperation),
  cancel: methodPath(Operations.method.cancelOperation),
};

/** CancelOperation on every name, `inflight` at a time; returns when the last answer arrived. */
export async function cancelAll(control: grpc.Client, names: readonly string[], inflight: number): Promise<number> {
  let next = 0;
  let lastAnswered = 0;
  await Promise.all(
    Array.from({ length: Math.min(inflight, names.length) }, async () => {
      for (let i = next++; i < names.length; i = next++) {
        const request = encodeRequest(Operations.method.cancelOperation, { name: names[i] as string });
        lastAnswered = Math.max(lastAnswered, (await rawCall(control, PATHS.cancel, request)).receivedAt);
      }
    }),
  );
  return lastAnswered;
}

/** Every path once (start, wait, get, cancel) on every channel, so no connection or code is cold. */
export async function warmUp(control: grpc.Client, channels: readonly grpc.Client[], completion: Completion): Promise<void> {
  await Promise.all(
    channels.map(async (channel) => {
      const duration = durationFromMs(completion === "cancel" ? HOUR_MS : 0);
      const started = await rawCall(control, PATHS.sleep, encodeRequest(Demo.method.sleep, { duration }));
      const name = fromBinary(OperationSchema, started.bytes).name;
      await rawCall(channel, PATHS.get, encodeRequest(Operations.method.getOperation, { name }));
      if (completion === "cancel") await rawCall(control, PATHS.cancel, encodeRequest(Operations.method.cancelOperation, { name }));
      const waited = await waitFor(channel, name, started.receivedAt);
      if (!fromBinary(OperationSchema, waited.reply.bytes).done) throw new Error(`warm-up: ${name} not done`);
    }),
  );
}

/** One WaitOperation with a long timeout; again only if it came back not done (it should not). */
export async function waitFor(channel: grpc.Client, name: string, startedAt: number): Promise<Followed> {
  const request = encodeRequest(Operations.method.waitOperation, { name, timeout: durationFromMs(WAIT_TIMEOUT_MS) });
  for (let requests = 1; ; requests++) {
    const reply = await rawCall(channel, PATHS.wait, request, Date.now() + WAIT_TIMEOUT_MS + 10_000);
    if (isDone(reply.bytes)) return { name, startedAt, reply, requests, answersBeforeDone: requests - 1 };
  }
}

/** google-gax's Operation.startPolling_ with its default backoff: Get, then wait 100 ms, 130 ms, … ≤ 60 s. */
export async function pollLikeGax(channel: grpc.Client, name: string, startedAt: number): Promise<Followed> {
  const request = encodeRequest(Operations.method.getOperation, { name });
  let delay = GAX_LRO_BACKOFF.initialRetryDelayMillis;
  for (let requests = 1; ; requests++) {
    const reply = await rawCall(channel, PATHS.get, request);
    if (isDone(reply.bytes)) return { name, startedAt, reply, requests, answersBeforeDone: requests - 1 };
    await sleep(delay);
    delay = Math.min(delay * GAX_LRO_BACKOFF.retryDelayMultiplier, GAX_LRO_BACKOFF.maxRetryDelayMillis);
  }
}

/**
 * What gax's schedule alone costs, with a server answering in no time: the polls fall at 0, 100, 230, 399 ms…
 * after the start; the operation is seen done at the first poll at or after its end. Returns that delay and
 * the polls it took.
 */
export function idealGaxPoll(startedAt: number, endTime: number): { delayMs: number; requests: number } {
  let at = startedAt;
  let delay = GAX_LRO_BACKOFF.initialRetryDelayMillis;
  for (let requests = 1; ; requests++) {
    if (at >= endTime) return { delayMs: at - endTime, requests };
    at += delay;
    delay = Math.min(delay * GAX_LRO_BACKOFF.retryDelayMultiplier, GAX_LRO_BACKOFF.maxRetryDelayMillis);
  }
}

/**
 * Cheap: the Operation's Any fields stay bytes. Unpacking the metadata waits until every follower is done,
 * so that work in the client does not delay the answers still arriving and count as the server's delay.
 */
function isDone(bytes: Buffer): boolean {
  return fromBinary(OperationSchema, bytes).done;
}

/** SleepMetadata.end_time: set when the handler returned, or when the cancel of a queued operation began. */
export function metadataEndTime(operation: Operation): number {
  const metadata = operation.metadata ? anyUnpack(operation.metadata, SleepMetadataSchema) : undefined;
  if (!metadata?.endTime) throw new Error(`${operation.name} has no end_time`);
  return timestampMs(metadata.endTime);
}
