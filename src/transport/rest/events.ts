import type { ServerResponse } from "node:http";
import type { Message } from "@bufbuild/protobuf";
import type { CallContext, Endpoint } from "../../service/endpoint.js";
import type { OperationChanges } from "../../service/watch.js";

/** A comment line every so often keeps proxies from closing an idle stream and finds dead connections. */
const HEARTBEAT_MS = 15_000;
/**
 * A stream ends after this long and the browser opens another: its credentials are checked again then
 * (a key revoked, a token expired), and a stream does not outlive a deployment's load balancer timeouts.
 */
const MAX_STREAM_MS = 5 * 60_000;
/** Most of a stream left unsent (the client does not read) before it is ended. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * The open event streams of one REST server, so that closing the server ends them (an open stream is a
 * request in flight that would otherwise keep `server.close()` waiting for ever).
 */
export class EventStreams {
  private readonly open = new Set<() => void>();

  /**
   * Answers a watch endpoint as `text/event-stream`: an `event: changes` whose data is the JSON of each
   * batch (`{"changed": [names], "deleted": [names], "resync": bool}`), until the client goes, the server
   * closes, or the stream's time is up. Throws (before anything is written) what opening the watch throws.
   */
  async serve(endpoint: Endpoint, request: Message, ctx: CallContext, res: ServerResponse): Promise<void> {
    if (endpoint.watch === undefined) throw new Error("not a watch endpoint");
    const pending: OperationChanges[] = [];
    let started = false;
    const write = (changes: OperationChanges): void => {
      if (!started) {
        pending.push(changes);
        return;
      }
      // A client that stopped reading: end its stream rather than buffer for it (it reconnects and resyncs).
      if (res.writableLength > MAX_BUFFERED_BYTES) end();
      else res.write(`event: changes\ndata: ${JSON.stringify(changes)}\n\n`);
    };
    const unwatch = await endpoint.watch(request, ctx, write);
    if (res.destroyed) {
      unwatch();
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      // Asks nginx-like proxies not to buffer the stream.
      "x-accel-buffering": "no",
    });
    // Tells the browser's EventSource (or a reader of the stream) how long to wait before reconnecting.
    res.write("retry: 1000\n\n");
    const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
    heartbeat.unref();
    const end = (): void => {
      clearInterval(heartbeat);
      clearTimeout(timeUp);
      unwatch();
      this.open.delete(end);
      if (!res.writableEnded) res.end();
    };
    const timeUp = setTimeout(end, MAX_STREAM_MS);
    timeUp.unref();
    this.open.add(end);
    res.once("close", end);
    started = true;
    for (const changes of pending.splice(0)) write(changes);
  }

  /** Ends every open stream. */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}
