import type { DescMessage, DescMethod, Message } from "@bufbuild/protobuf";
import type { RetryPolicy } from "./retry.js";

/** Options of a single call. */
export interface CallOptions {
  /** Aborts the call (and its retries); it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The deadline of one attempt, in ms. @default the client's `timeoutMs` (10 s) */
  timeoutMs?: number;
  /** The retry policy of this call; `false`: one attempt only. @default the client's */
  retry?: RetryPolicy | false;
}

/** One attempt of a unary call, as a transport makes it. */
export interface Attempt {
  /** Aborts the attempt; it then rejects with the signal's reason. */
  readonly signal: AbortSignal | undefined;
  /** Epoch ms after which the attempt fails with DEADLINE_EXCEEDED. */
  readonly deadline: number;
}

/**
 * What the client needs from a wire protocol: one unary call. `grpc.ts` and `rest.ts` implement it; retries,
 * waiting and decoding live above, in the client.
 *
 * A failed call rejects with CallFailedError (the server's status, or UNAVAILABLE / DEADLINE_EXCEEDED
 * for the transport's own failures), an aborted one with the signal's reason.
 */
export interface OperationsTransport {
  readonly kind: "grpc" | "rest";
  /**
   * Calls `method` with `request`, decoding the answer as `output` (the method's own output type, or a
   * compiled-in twin of it — a method found by reflection returns an Operation the client reads with its
   * generated `OperationSchema`).
   */
  call(method: DescMethod, request: Message, output: DescMessage, attempt: Attempt): Promise<Message>;
  close(): void;
}

/** `google.longrunning.Operations/GetOperation`: how errors and logs name a method. */
export function methodPath(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
