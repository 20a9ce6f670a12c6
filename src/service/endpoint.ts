import type { DescMethod, Message } from "@bufbuild/protobuf";
import type { HttpRule } from "../gen/google/api/http_pb.js";
import type { Credentials } from "../auth/credentials.js";
import type { RoleLevel } from "../auth/roles.js";

/** What a transport knows about the call it is serving. */
export interface CallContext {
  /** Absolute deadline (ms since epoch) from the caller (gRPC `grpc-timeout`), if any. */
  deadline: number | undefined;
  /** Fires when the caller goes away (connection closed, call cancelled). */
  signal: AbortSignal;
  transport: "grpc" | "rest";
  /** What the caller presented to authenticate; read only when the server checks credentials. */
  readonly credentials: Credentials;
  /**
   * Who is calling, once authenticated (`user:alice`, `serviceAccount:ci@example`): set by the guard before
   * the endpoint runs; undefined when the server does not authenticate.
   */
  principal: string | undefined;
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
}
