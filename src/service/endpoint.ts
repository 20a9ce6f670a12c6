import type { DescMethod, Message } from "@bufbuild/protobuf";
import type { HttpRule } from "../gen/google/api/http_pb.js";

/** What a transport knows about the call it is serving. */
export interface CallContext {
  /** Absolute deadline (ms since epoch) from the caller (gRPC `grpc-timeout`), if any. */
  deadline: number | undefined;
  /** Fires when the caller goes away (connection closed, call cancelled). */
  signal: AbortSignal;
  transport: "grpc" | "rest";
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
  /**
   * Answers the call. Throws RpcError for a status; any other thrown value is a bug and becomes INTERNAL
   * without its message.
   */
  invoke(request: Message, ctx: CallContext): Promise<Message>;
}
