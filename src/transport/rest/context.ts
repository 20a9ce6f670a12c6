import type { IncomingMessage, ServerResponse } from "node:http";
import { TLSSocket } from "node:tls";
import { callerGone, type RpcError } from "../../core/errors.js";
import type { Credentials } from "../../auth/credentials.js";
import type { CallContext } from "../../service/endpoint.js";
import { CallerGone } from "../caller-gone.js";
import { certificateOf } from "../tls.js";
import type { ParsedQuery } from "./query.js";

/**
 * The CallContext of a request. Its signal aborts (reason: RpcError CANCELLED) when the client goes away
 * before the response is written. The AbortController is only made if someone reads `signal`: creating
 * one costs more than the rest of a small call's transport work. (A class and a shared listener, not
 * closures, to keep per-request allocations down.)
 */
class RestCallContext implements CallContext {
  readonly deadline = undefined;
  readonly transport = "rest" as const;
  principal: string | undefined = undefined;
  private controller: AbortController | undefined;
  private readonly callerGone = new CallerGone();
  private found: Credentials | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly query: ParsedQuery,
    readonly requestId: string,
  ) {}

  /**
   * A header wins over the query's `key=` / `access_token=`, which count only when no header carries one.
   * Built on first read and kept: the guard may read it more than once. The certificate is read only
   * off a socket whose handshake verified it: a server that does not ask for one, or one that lets
   * unverified certificates through (`rejectUnauthorized: false`), gives none.
   */
  get credentials(): Credentials {
    if (this.found !== undefined) return this.found;
    const { headers, socket } = this.req;
    const apiKey = headers["x-goog-api-key"];
    const { accessToken } = this.query;
    this.found = {
      apiKey: typeof apiKey === "string" ? apiKey : this.query.apiKey,
      authorization: headers.authorization ?? (accessToken === undefined ? undefined : `Bearer ${accessToken}`),
      certificate: socket instanceof TLSSocket && socket.authorized ? certificateOf(socket.getPeerCertificate()) : undefined,
    };
    return this.found;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return typeof value === "string" ? value : value?.[0];
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.callerGone.gone) this.controller.abort(clientClosed());
    }
    return this.controller.signal;
  }

  onCancel(listener: () => void): () => void {
    return this.callerGone.onCancel(listener);
  }

  clientGone(): void {
    if (this.callerGone.fire()) this.controller?.abort(clientClosed());
  }
}

const CONTEXT = Symbol("longrun.rest.context");
type ResponseWithContext = ServerResponse & { [CONTEXT]?: RestCallContext };

function onResponseClose(this: ResponseWithContext): void {
  if (!this.writableFinished) this[CONTEXT]?.clientGone();
}

export function callContext(req: IncomingMessage, res: ServerResponse, query: ParsedQuery, requestId: string): CallContext {
  const ctx = new RestCallContext(req, query, requestId);
  (res as ResponseWithContext)[CONTEXT] = ctx;
  res.once("close", onResponseClose);
  return ctx;
}

function clientClosed(): RpcError {
  return callerGone("The client closed the connection.");
}
