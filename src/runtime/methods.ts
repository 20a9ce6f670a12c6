import type { Context } from "@opentelemetry/api";
import {
  getOption,
  hasOption,
  ScalarType,
  type DescField,
  type DescMessage,
  type DescMethod,
  type MessageInitShape,
  type MessageShape,
  type Registry,
} from "@bufbuild/protobuf";
import { operation_info } from "../gen/google/longrunning/operations_pb.js";
import { OperationMetadataSchema } from "../gen/google/cloud/common/operation_metadata_pb.js";
import { DEFAULTS } from "../core/defaults.js";
import { resolveMessage } from "../core/registry.js";

import type { OperationControl } from "./control.js";
import { resolveScheduling, type Scheduling, type SchedulingOptions } from "./scheduling.js";

/** What a handler gets besides its request. */
export interface OperationContext<Metadata extends DescMessage = DescMessage> {
  /** The operation's resource name, e.g. `operations/3kTMd…`. */
  readonly name: string;
  /**
   * 1 on the first run; higher when the operation is run again: after its worker was lost, or after an
   * attempt failed and the method's retry policy asked for another (docs/scheduling.md).
   */
  readonly attempt: number;
  /**
   * Who started the operation (the authenticated caller, e.g. `user:alice`), undefined when the server
   * does not authenticate. Kept with the operation, so a retried attempt sees the same one.
   */
  readonly principal: string | undefined;
  /** Fires when the operation is cancelled (reason: an RpcError with code CANCELLED) or its lease is lost. */
  readonly signal: AbortSignal;
  /** The metadata as last written. */
  readonly metadata: MessageShape<Metadata>;
  /**
   * Merges `partial` into the metadata and writes it durably before resolving. Concurrent calls are
   * coalesced: only the latest state is written. Rejects if the operation was taken from this worker.
   */
  progress(partial: Partial<MessageInitShape<Metadata>>): Promise<void>;
  /**
   * Control commands requested of this operation through the custom methods on operations the service
   * declares (`operationControlEndpoint`), e.g. "pause" and "resume": what they mean is the handler's.
   */
  readonly control: OperationControl;
  /**
   * The OpenTelemetry Context of this attempt's `run` span when the server traces (docs/observability.md,
   * "Traces"), undefined otherwise. The handler runs inside it (`context.with`), so spans it starts with
   * the active context nest under the run; pass it explicitly as the parent where no context manager
   * carries it (`tracer.startSpan(name, {}, ctx.traceContext)`).
   */
  readonly traceContext: Context | undefined;
}

export type Handler<Request extends DescMessage, Response extends DescMessage, Metadata extends DescMessage> = (
  request: MessageShape<Request>,
  ctx: OperationContext<Metadata>,
) => Promise<MessageInitShape<Response> | MessageShape<Response>>;

export interface MethodOptions<Request extends DescMessage, Response extends DescMessage, Metadata extends DescMessage>
  extends SchedulingOptions<MessageShape<Request>> {
  /** The RPC, from generated code (e.g. `Demo.method.sleep`); its proto declares `operation_info`. */
  method: DescMethod & { input: Request };
  /** The response type, checked against `operation_info.response_type`. Resolved from it when omitted. */
  response?: Response;
  /** The metadata type, checked against `operation_info.metadata_type`. Resolved from it when omitted. */
  metadata?: Metadata;
  handler: Handler<Request, Response, Metadata>;
  /**
   * Checks the request before the operation is created; throw an RpcError (e.g. `invalidArgument`) to
   * refuse the start with that status (AIP-151: errors that prevent an LRO from starting are RPC errors).
   */
  validate?: (request: MessageShape<Request>) => void;
  /**
   * Whether an operation interrupted by a lost worker (crash, restart, lease expiry) is run again.
   * @default true — an interruption is not the operation's fault, and failing every running operation
   * on each deploy would surprise users more than running an idempotent handler twice. Set false for
   * handlers with side effects that must not repeat: such operations end with ABORTED instead.
   */
  retryable?: boolean;
  /** Attempts in all, counting the first, before an interrupted operation ends with ABORTED. @default 3 */
  maxAttempts?: number;
  /**
   * The parent an operation is named under, when the deployment's names are parent-scoped
   * (`projects/{project}/locations/{location}/operations/{id}`). @default the request's `parent` field
   */
  parent?: (request: MessageShape<Request>) => string;
  /**
   * A prefix for the ids of this method's operations, from the request: Storage Transfer names its
   * operations `transferOperations/transferJobs-{job}-{id}`, so its RunTransferJob gives `transferJobs-{job}-`.
   * The id's time and random parts follow it (unguessable, unique without coordination). Letters, digits,
   * `-` and `_` only; anything else refuses the start with INVALID_ARGUMENT. @default no prefix
   */
  operationIdPrefix?: (request: MessageShape<Request>) => string;
  /**
   * Metadata the operation has from its creation, from the request (merged over the defaults): what a
   * queued operation already tells readers and list filters — Storage Transfer's project_id and
   * transfer_job_name, say, which its list filter requires. @default the metadata type's defaults
   */
  initialMetadata?: (request: MessageShape<Request>) => Partial<MessageInitShape<Metadata>>;
  /**
   * With auth on, the resource the permission to start an operation is checked on, from the request: where
   * the work belongs when the operation's name does not say (Storage Transfer's jobs belong to
   * `projects/{projectId}`, its operations' names carry no project). @default the operation's parent, or
   * the collection for names without one
   */
  permissionResource?: (request: MessageShape<Request>) => string;
}

/** A method ready to serve: its options with the operation_info types resolved. */
export interface MethodDefinition {
  readonly method: DescMethod;
  readonly fullName: string;
  readonly request: DescMessage;
  readonly response: DescMessage;
  readonly metadata: DescMessage;
  readonly handler: Handler<DescMessage, DescMessage, DescMessage>;
  readonly validate: ((request: MessageShape<DescMessage>) => void) | undefined;
  readonly retryable: boolean;
  readonly maxAttempts: number;
  /** The request's top-level `string request_id` field (AIP-155), if it has one. */
  readonly requestIdField: DescField | undefined;
  readonly operationIdPrefix: ((request: MessageShape<DescMessage>) => string) | undefined;
  readonly initialMetadata: ((request: MessageShape<DescMessage>) => object) | undefined;
  /** The parent of a new operation, for parent-scoped names; undefined if the method has no way to tell. */
  readonly parentOf: ((request: MessageShape<DescMessage>) => string) | undefined;
  readonly permissionResource: ((request: MessageShape<DescMessage>) => string) | undefined;
  /** Retries of failed attempts, timeouts, start times and deadlines (docs/scheduling.md). */
  readonly scheduling: Scheduling<MessageShape<DescMessage>>;
}

/** A long-running method as the user declares it; `resolveMethod` checks it against the registry at start-up. */
export type MethodDeclaration = MethodOptions<DescMessage, DescMessage, DescMessage>;

/** Where a declaration keeps the message types it was declared with: for the type checker only, never set. */
declare const declaredTypes: unique symbol;

/**
 * A declaration that remembers its request, response and metadata types, as `defineMethod` returns it:
 * `server.operations.start(declaration, request)` is typed by it. A `MethodDeclaration` everywhere else.
 */
export type TypedMethodDeclaration<Request extends DescMessage, Response extends DescMessage, Metadata extends DescMessage> = MethodDeclaration & {
  readonly [declaredTypes]?: { readonly request: Request; readonly response: Response; readonly metadata: Metadata };
};

/**
 * Declares a long-running method: the RPC it answers and the handler that does the work.
 *
 * ```ts
 * const sleep = defineMethod({
 *   method: Demo.method.sleep, response: SleepResponseSchema, metadata: SleepMetadataSchema,
 *   handler: async (request, ctx) => { await ctx.progress({ progressPercent: 50 }); return { slept: request.duration }; },
 * });
 * ```
 */
export function defineMethod<Request extends DescMessage, Response extends DescMessage, Metadata extends DescMessage>(
  options: MethodOptions<Request, Response, Metadata>,
): TypedMethodDeclaration<Request, Response, Metadata> {
  return options as unknown as TypedMethodDeclaration<Request, Response, Metadata>;
}

export function methodFullName(method: DescMethod): string {
  return `${method.parent.typeName}.${method.name}`;
}

/** Resolves and checks a declaration; throws an Error naming the problem (a programming error, at start-up). */
export function resolveMethod(declaration: MethodDeclaration, registry: Registry): MethodDefinition {
  const { method } = declaration;
  const fullName = methodFullName(method);
  if (method.output.typeName !== "google.longrunning.Operation") {
    throw new Error(`${fullName} does not return google.longrunning.Operation`);
  }
  const pkg = method.parent.file.proto.package;
  const info = hasOption(method, operation_info) ? getOption(method, operation_info) : undefined;
  const response = pick(fullName, "response", declaration.response, info?.responseType, registry, pkg);
  const metadata = pick(fullName, "metadata", declaration.metadata, info?.metadataType, registry, pkg) ?? OperationMetadataSchema;
  if (!response) {
    throw new Error(`${fullName} has no google.longrunning.operation_info.response_type and no response type was given`);
  }
  const requestIdField = method.input.fields.find(
    (f) => f.name === "request_id" && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING,
  );
  const parentField = method.input.fields.find((f) => f.name === "parent" && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);
  const parentOf =
    declaration.parent ??
    (parentField ? (request: MessageShape<DescMessage>) => String((request as unknown as Record<string, unknown>)[parentField.localName] ?? "") : undefined);
  const maxAttempts = declaration.maxAttempts ?? DEFAULTS.maxAttempts.value;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`${fullName}: maxAttempts must be an integer >= 1`);
  return {
    method,
    fullName,
    request: method.input,
    response,
    metadata,
    handler: declaration.handler,
    validate: declaration.validate,
    retryable: declaration.retryable ?? true,
    maxAttempts,
    requestIdField,
    parentOf,
    operationIdPrefix: declaration.operationIdPrefix,
    initialMetadata: declaration.initialMetadata,
    permissionResource: declaration.permissionResource,
    scheduling: resolveScheduling(fullName, declaration, maxAttempts),
  };
}

function pick(
  fullName: string,
  what: "response" | "metadata",
  given: DescMessage | undefined,
  declared: string | undefined,
  registry: Registry,
  pkg: string,
): DescMessage | undefined {
  const resolved = declared ? resolveMessage(registry, declared, pkg) : undefined;
  if (declared && !resolved) {
    throw new Error(`${fullName}: operation_info.${what}_type "${declared}" is not in the registry (add its file)`);
  }
  if (given && resolved && given.typeName !== resolved.typeName) {
    throw new Error(`${fullName}: ${what} type ${given.typeName} differs from operation_info (${resolved.typeName})`);
  }
  return given ?? resolved;
}
