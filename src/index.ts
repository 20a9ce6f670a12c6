/**
 * longrun: Google-style long-running operations (google.longrunning.Operations, AIP-151) for TypeScript.
 *
 * ```ts
 * import { defineMethod, startServer, SqliteStore } from "longrun";
 * import { Demo, SleepResponseSchema, SleepMetadataSchema } from "./gen/longrun/demo/v1/demo_pb.js";
 *
 * const sleep = defineMethod({
 *   method: Demo.method.sleep, response: SleepResponseSchema, metadata: SleepMetadataSchema,
 *   async handler(request, ctx) {
 *     await ctx.progress({ progressPercent: 50 });
 *     return { slept: request.duration };
 *   },
 * });
 * const server = await startServer({ store: SqliteStore.open("longrun.db"), methods: [sleep] });
 * ```
 */

// Declaring long-running methods
export {
  defineMethod,
  type MethodOptions,
  type MethodDeclaration,
  type TypedMethodDeclaration,
  type Handler,
  type OperationContext,
} from "./runtime/methods.js";
export { RpcError, invalidArgument, notFound, unimplemented, Reason, type RpcErrorOptions } from "./core/errors.js";
export { Code, codeName, isErrorCode } from "./core/code.js";
export { nonNegativeDurationMs } from "./core/duration.js";

// Completion notifications (docs/notifications.md): checking a webhook's longrun-signature
export {
  verifyWebhookSignature,
  signWebhookPayload,
  WEBHOOK_SIGNATURE_HEADER,
  type VerifyWebhookSignatureOptions,
} from "./core/webhook-signature.js";

// Serving them
export { startServer, type ServerOptions, type LongrunServer, type MetricsSettings, type TracingSettings } from "./server.js";
export { OperationNames, type OperationNamesOptions } from "./core/names.js";
export type { OptionalMethod, OperationsService } from "./service/operations-service.js";
// In-process (docs/concepts.md, "In-process: the library API"): `server.operations`
export type { LocalOperations, LocalOperation, LocalStartOptions, LocalMethod } from "./service/local-operations.js";
export type { Endpoint, CallContext, EndpointAccess } from "./service/endpoint.js";

// Security (docs/security.md)
export type { AuthConfig, ApiKeyEntry, JwtConfig, Binding } from "./auth/config.js";
export type { Authorize } from "./auth/policy.js";
export type { Credentials, PeerCertificate } from "./auth/credentials.js";
export type { RoleLevel } from "./auth/roles.js";
export { hashApiKey } from "./auth/api-key-hash.js";
export { loadAuthFile, checkAuth, type LoadedAuth } from "./auth/load.js";
export { jsonLinesAuditSink, loggerAuditSink, type AuditEntry, type AuditSink } from "./service/audit.js";
export type { TlsOptions } from "./server.js";
export {
  operationControlEndpoint,
  type DisabledMethods,
  type AdditionalBinding,
  type OperationsMethodName,
  type OperationControlOptions,
  type ListScope,
} from "./service/endpoints.js";
export type { OperationControl } from "./runtime/control.js";
// Completion notifications (docs/notifications.md): where finished operations are announced, and how a
// deployment names its events.
export { openSink } from "./notify/open-sink.js";
export { Dispatcher, type DispatcherOptions, type DispatcherStats } from "./notify/dispatcher.js";
export type { NotifyTarget, NotificationNaming } from "./notify/setup.js";
export type { Sink, SinkOptions, Notification, DeliveryOutcome } from "./notify/sink.js";
export { EVENT_TYPES, type FinishOutcome, type FinishingOperation } from "./runtime/notifications.js";
export {
  profileOptions,
  loadProfile,
  loadProfileModule,
  checkProfileModule,
  longrunProfile,
  type DeploymentProfile,
  type ProfileModule,
  type FilterDialectName,
  type FilterDialects,
} from "./profiles/index.js";

// Writing a ListOperations filter dialect (a plug-in a profile names; see examples/storage-transfer/filter.ts):
// turn the request's filter into the typed FilterExpr the stores run, checking metadata paths against the
// schema, and refuse what cannot be used with INVALID_ARGUMENT (reason INVALID_FILTER).
export {
  aip160Dialect,
  compileFilter,
  evaluate,
  buildFilterSchema,
  FilterError,
  DEFAULT_FILTER_LIMITS,
  type FilterDialect,
  type FilterLimits,
  type FilterSchema,
} from "./filter/index.js";
export { FIXED_FIELDS, resolveMetadataPath, type MetadataPath, type PathError } from "./filter/schema.js";
export { parseTimestamp as parseFilterTimestamp } from "./filter/time.js";
export type {
  FilterExpr,
  Compare,
  CompareOp,
  Present,
  AnyElement,
  Field,
  Column,
  ColumnField,
  ObjectField,
  TypeNameField,
  JsonField,
  ElementField,
  Value,
  ValueType,
  StringMatch,
} from "./filter/expr.js";

// Stores
export type { Store, OperationRecord, ListedOperation, OperationRef } from "./store/store.js";
export { SqliteStore } from "./store/sqlite/sqlite-store.js";
export { openStore, type OpenStoreOptions } from "./store/open.js";
export { PostgresStore, type PostgresStoreOptions } from "./store/postgres/postgres-store.js";
