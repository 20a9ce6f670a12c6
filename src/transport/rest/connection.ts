import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Registry } from "@bufbuild/protobuf";
import { malformedRequest, requestHeadersTooLarge, type RpcError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { withholdContinue } from "./body.js";
import { renderError } from "./errors.js";

/** What the connection-level answers need: the limits they enforce and how errors are rendered. */
export interface ConnectionOptions {
  maxBodyBytes: number;
  maxHeaderBytes: number;
  errorDomain: string;
  registry: Registry;
  log: Logger;
}

/**
 * The answers node:http would otherwise give on its own:
 * - `Expect: 100-continue` ('checkContinue'): a Content-Length over the body limit gets its 413 without
 *   a 100 Continue (the client then does not send the body); any other request gets its 100 and is served.
 * - a request node:http cannot parse ('clientError': headers over `maxHeaderBytes`, a garbage request
 *   line…): a google.rpc.Status envelope, 431 or 400, instead of node's bare status line.
 */
export function answerAtConnectionLevel(
  server: Server,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: ConnectionOptions,
): void {
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    const cl = req.headers["content-length"];
    if (cl !== undefined && Number(cl) > options.maxBodyBytes) withholdContinue(req);
    else res.writeContinue();
    handler(req, res);
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket, options));
}

/** Node's own answer when the request does not arrive in time (requestTimeout, headersTimeout). */
const REQUEST_TIMEOUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, options: ConnectionOptions): void {
  // Nothing to answer on a connection that is gone, or whose response has already begun.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    socket.end(REQUEST_TIMEOUT);
    return;
  }
  let rpc: RpcError;
  if (err.code === "HPE_HEADER_OVERFLOW") {
    rpc = requestHeadersTooLarge(options.maxHeaderBytes);
  } else {
    const detail = err.code === undefined ? "unparsable request" : `unparsable request (${err.code})`;
    rpc = malformedRequest("The request is not valid HTTP/1.1.", undefined, detail);
  }
  try {
    const { httpStatus, body } = renderError(rpc, options.errorDomain, options.registry, false, options.log);
    socket.end(
      `HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus] ?? ""}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "X-Content-Type-Options: nosniff\r\n" +
        "Connection: close\r\n\r\n" +
        body,
    );
  } catch (e) {
    options.log("cannot answer an unparsable request", e);
    socket.destroy();
  }
}
