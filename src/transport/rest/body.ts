import type { IncomingMessage } from "node:http";
import { callerGone, malformedRequest, requestTooLarge, type RpcError } from "../../core/errors.js";
import { decompress, type ContentCoding } from "./encoding.js";

/** How much of a request body is read: what is kept (`limit`), and what is read and discarded at most (`drainLimit`). */
export interface BodyLimits {
  /** Largest body accepted. */
  limit: number;
  /** Bytes of an oversized body read (and thrown away) at most before the connection is closed. */
  drainLimit: number;
}

/**
 * Requests answered before their (oversized) body arrived, on a connection kept open to discard the rest
 * of it: the answer must not say `Connection: close` (node:http would close the socket while the client is
 * still sending, and the client's TCP stack could drop the answer with the reset).
 */
const answeredEarly = new WeakSet<IncomingMessage>();

/** Requests with `Expect: 100-continue` whose body was refused by its Content-Length: no 100 was sent. */
const continueWithheld = new WeakSet<IncomingMessage>();

/** The 100 Continue of this request is not sent: its body will not come (see readBody). */
export function withholdContinue(req: IncomingMessage): void {
  continueWithheld.add(req);
}

/**
 * Whether the answer to a request refused as too large closes the connection: when the body was neither
 * read to its end nor is still being discarded (it went past `drainLimit`, or 100 Continue was withheld).
 */
export function closesAfterRefusal(req: IncomingMessage): boolean {
  return !req.complete && !answeredEarly.has(req);
}

/**
 * Reads the request body as UTF-8 text, up to `limit` bytes. A larger body (by Content-Length, or counted
 * while reading a chunked one) is not kept: the rest of it is read and discarded, and only once it has
 * ended does the promise reject with REQUEST_TOO_LARGE — a client still sending when the answer comes and
 * the connection closes would see a reset (EPIPE) rather than the answer. Discarding is bounded: a body
 * announced larger than `drainLimit` is refused at once and discarded while the answer goes out, the
 * connection destroyed once `drainLimit` bytes came; a chunked one is refused when it passes `drainLimit`,
 * the answer closing the connection. A compressed body (`coding`, see contentCodingOf) is held to `limit`
 * both as sent and once decompressed.
 */
export function readBody(req: IncomingMessage, { limit, drainLimit }: BodyLimits, coding: ContentCoding = "identity"): Promise<string> | string {
  const te = req.headers["transfer-encoding"];
  const cl = req.headers["content-length"];
  if (te === undefined && (cl === undefined || cl === "0")) return "";
  const announced = cl === undefined ? 0 : Number(cl);
  if (announced > limit && continueWithheld.has(req)) throw requestTooLarge(limit);
  if (announced > drainLimit) {
    answeredEarly.add(req);
    discard(req, drainLimit);
    throw requestTooLarge(limit);
  }
  return new Promise<string>((resolve, reject) => {
    let chunks: Buffer[] | undefined = announced > limit ? undefined : [];
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > drainLimit) {
        cleanup();
        req.resume(); // the answer closes the connection
        reject(requestTooLarge(limit));
        return;
      }
      if (size > limit) chunks = undefined; // discard it all, read on to the end
      chunks?.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      if (chunks === undefined) {
        reject(requestTooLarge(limit));
        return;
      }
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (coding === "identity") {
        settleText(buf, resolve, reject);
      } else {
        decompress(buf, coding, limit).then((plain) => settleText(plain, resolve, reject), reject);
      }
    };
    const onError = (): void => {
      cleanup();
      reject(clientGone());
    };
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(clientGone());
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** Reads and throws away what arrives of the body; past `drainLimit` bytes, closes the connection. */
function discard(req: IncomingMessage, drainLimit: number): void {
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > drainLimit) {
      req.off("data", onData);
      req.socket.destroy();
    }
  };
  req.on("data", onData);
  req.on("error", () => undefined);
  req.resume();
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function settleText(buf: Buffer, resolve: (text: string) => void, reject: (e: RpcError) => void): void {
  try {
    resolve(utf8.decode(buf));
  } catch {
    reject(malformedRequest("Invalid JSON payload received. The request body is not valid UTF-8."));
  }
}

function clientGone(): RpcError {
  return callerGone("The client closed the connection before sending the whole request.");
}
