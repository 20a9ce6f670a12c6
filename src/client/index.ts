/**
 * longrun/client: a typed client of google.longrunning.Operations (AIP-151) — longrun's or any server's —
 * over gRPC or REST.
 *
 * ```ts
 * import { LongrunClient } from "longrun/client";
 * import { Demo, SleepMetadataSchema, SleepResponseSchema } from "./gen/longrun/demo/v1/demo_pb.js";
 *
 * const client = new LongrunClient({ server: "127.0.0.1:50051" }); // or { server: "http://127.0.0.1:8080", transport: "rest" }
 * const op = await client.start(Demo.method.sleep, { duration: { seconds: 3n } }, { response: SleepResponseSchema, metadata: SleepMetadataSchema });
 * for await (const snapshot of op.updates()) console.log(`${snapshot.progressPercent ?? 0}%`);
 * const response = await op.result(); // SleepResponse; OperationFailedError if the operation failed
 * client.close();
 * ```
 */

// The client and its handles
export { LongrunClient, operationTypes, type LongrunClientOptions, type StartOptions, type ListOptions } from "./client.js";
export { OperationHandle, type OperationSnapshot, type OperationTypes, type UpdatesOptions } from "./handle.js";
export type { CallOptions, OperationsTransport } from "./transport.js";
export type { ClientTls, TokenSource } from "./credentials.js";
export type { ClientRegistry } from "./registry.js";
export { type WaitOptions, type WatchOptions, type PollingPolicy, DEFAULT_POLLING_POLICY, pollSchedule } from "./wait.js";
export { type RetryPolicy, DEFAULT_RETRY_POLICY } from "./retry.js";

// Errors
export {
  StatusError,
  CallFailedError,
  OperationFailedError,
  WaitTimeoutError,
  UnknownTypeError,
  UnexpectedTypeError,
} from "./errors.js";

// Decoding and descriptors
export { unpackAny, typeNameOf } from "./any.js";
export { progressPercent, progressField } from "./progress.js";
export { ServerReflection } from "./reflection.js";
export type { OperationNaming } from "./rest-request.js";
export type { RestBinding } from "../http/rule.js";
export { Code, codeName } from "../core/code.js";

// Receiving completion notifications by webhook (docs/notifications.md)
export {
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type VerifyWebhookSignatureOptions,
} from "../core/webhook-signature.js";
