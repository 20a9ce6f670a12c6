import type { IncomingMessage } from "node:http";
import { callerGone, malformedRequest, requestTooLarge, type RpcError } from "../../core/errors.js";

/**
 * Reads the request body as UTF-8 text, up to `limit` bytes. A larger body (by Content-Length, or
 * counted while reading a chunked one) is refused without buffering it: the promise rejects with
 * REQUEST_TOO_LARGE and the rest of the body is discarded as it arrives.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> | string {
  const te = req.headers["transfer-encoding"];
  const cl = req.headers["content-length"];
  if (te === undefined && (cl === undefined || cl === "0")) return "";
  if (cl !== undefined && Number(cl) > limit) {
    req.resume(); // discard
    throw requestTooLarge(limit);
  }
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        chunks.length = 0;
        req.resume(); // keep discarding what still arrives
        reject(requestTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      try {
        resolve(utf8.decode(buf));
      } catch {
        reject(malformedRequest("Invalid JSON payload received. The request body is not valid UTF-8."));
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

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function clientGone(): RpcError {
  return callerGone("The client closed the connection before sending the whole request.");
}
