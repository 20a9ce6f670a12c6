import type { DescMethod, Message } from "@bufbuild/protobuf";
import type { HttpRule } from "../gen/google/api/http_pb.js";
import type { Credentials } from "../auth/credentials.js";
import type { RoleLevel } from "../auth/roles.js";
import type { ChangesListener } from "./watch.js";

/** What a transport knows about the call it is serving. */
export interface CallContext {
  /** Absolute deadline (ms since epoch) from the caller (gRPC `grpc-timeout`), if any. */
  deadline: number | undefined;
  /** Fires when the caller goes away (connection closed, call cancelled). */
  signal: AbortSignal;
  /**
   * Calls `listener` once when the caller goes away, as `signal` aborts; returns what removes it. Cheaper
   * than `signal` (no AbortController, no EventTarget): for what waits long on many calls at once
   * (WaitOperation). Optional: `onCallerGone` falls back to `signal` without it.
   */
  onCancel?: ((listener: () => void) => () => void) | undefined;
  transport: "grpc" | "rest";
  /** What the caller presented to authenticate; read only when the server checks credentials. */
  readonly credentials: Credentials;
  /**
   * Who is calling, once authenticated (`user:alice`, `serviceAccount:ci@example`): set by the guard before
   * the endpoint runs; undefined when the server does not authenticate.
   */
  principal: string | undefined;
  /**
   * Set by the guard when it let the call through only on a narrower resource than the request's own (a
   * list of a flat collection allowed on the resource it is about, see EndpointAccess.scope): the endpoint
   * must serve only what belongs to it. Undefined otherwise, and when the server does not authorize.
   */
  scope?: string | undefined;
  /**
   * The first value of an incoming HTTP header or gRPC metadata key (`name` lower-case), as sent: what
   * trace propagation reads (W3C `traceparent`, `tracestate`). Undefined when absent.
   */
  header(name: string): string | undefined;
  /**
   * The W3C trace context of this call's span (JSON of `traceparent` and `tracestate`), given by the tracing
   * wrapper when tracing is on: a start keeps it with the operation (OperationRecord.traceContext). A
   * function, so that only the calls that keep it (starts) pay for writing it.
   */
  traceContext?: (() => string | undefined) | undefined;
  /**
   * The call's request id (`x-request-id` as sent, else generated; see request-id.ts), set by the
   * transports: on every log line about the call, and echoed as the `x-request-id` header on REST.
   */
  requestId?: string | undefined;
}

/**
 * What a call needs to be let through when the server authorizes calls: a permission on a resource
 * (AIP-211: checked before the resource is looked up, so a denial says nothing about existence).
 */
export interface EndpointAccess {
  /** The IAM-style permission, `<service>.<resource>.<verb>`: `longrun.operations.get`. */
  permission: string;
  /**
   * The resource the permission is checked on, from the request: an operation's name, a list's parent
   * (or collection), a new operation's parent.
   */
  resource(request: Message): string;
  /**
   * Only asked after a denial on `resource`: the resource the thing the request names belongs to, read
   * from where it is kept (an operation named without a parent: the resource its start was authorized
   * on), or undefined (none recorded, or nothing by that name). The call is allowed if the permission is
   * held there. A denial still names `resource` alone, so it tells nothing of what exists or whose it is.
   */
  owner?: (request: Message) => Promise<string | undefined>;
  /**
   * Only asked after a denial on `resource`: a narrower resource the call can be restricted to (a list of a
   * flat collection: the resource whose operations it asks for), or undefined. If the permission is held
   * there, the call proceeds with `ctx.scope` set to it, and the endpoint serves only what belongs to it.
   */
  scope?: (request: Message) => string | undefined;
  /**
   * Asked once the call is allowed on `resource` (so only of a caller who may see what it names): a further
   * permission the call needs, on a resource read from where it is kept — RetryOperation needs the start
   * permission of the retried operation's method, on its parent or resource, which only the stored
   * operation tells. Undefined when there is nothing to check (nothing by that name): the endpoint then
   * answers as it does (NOT_FOUND). A denial names this permission and resource.
   */
  further?: (request: Message) => Promise<{ permission: string; resource: string } | undefined>;
  /** Whether the call changes state (start, cancel, delete, control): those are written to the audit log. */
  mutation: boolean;
  /** The least predefined role that grants the permission (viewer reads, operator steers, editor starts and deletes). */
  role: RoleLevel;
}

/**
 * One RPC as the transports serve it: its descriptor (request/response schemas), its REST bindings and
 * the function that answers it. The Operations service methods and every user LRO method are endpoints,
 * so gRPC and REST serve them all the same way and neither knows what is behind `invoke`.
 */
export interface Endpoint {
  method: DescMethod;
  /** REST bindings, the first being the primary; empty when the method is not served over REST. */
  httpRules: readonly HttpRule[];
  /** Whether the method is served over gRPC. */
  grpc: boolean;
  /** The permission the call needs; an endpoint without one is refused at start-up when auth is on. */
  access?: EndpointAccess;
  /**
   * Answers the call. Throws RpcError for a status; any other thrown value is a bug and becomes INTERNAL
   * without its message.
   */
  invoke(request: Message, ctx: CallContext): Promise<Message>;
  /**
   * A stream instead of one answer (REST only, as server-sent events): sends `listener` what changes until
   * the returned function is called. Behind the guard, `invoke` is called first and the stream opened only
   * if it answers (it checks the same permission); throws RpcError as `invoke` does.
   */
  watch?(request: Message, ctx: CallContext, listener: ChangesListener): Promise<() => void>;
}

/** `listener` called once when the caller of `ctx` goes away (at once if it has); returns what removes it. */
export function onCallerGone(ctx: CallContext, listener: () => void): () => void {
  if (ctx.onCancel !== undefined) return ctx.onCancel(listener);
  const { signal } = ctx;
  if (signal.aborted) {
    listener();
    return () => undefined;
  }
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}
