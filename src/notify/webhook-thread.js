// @ts-check
/**
 * The webhook sink's HTTP client, in a worker thread of its own (src/notify/webhook.ts starts it): the
 * POSTs — undici's request writing, response parsing, sockets — run here, off the thread that serves RPCs
 * and writes the store, which on a busy server is the one that limits throughput (bench/notify). Plain
 * JavaScript, so the thread loads it as it is, with or without a TypeScript loader.
 *
 * Messages in: {kind: "post", batch, requests: [{path, headers, body}], concurrency}, {kind: "abort",
 * batch}, {kind: "close"}. Out: {kind: "done", batch, results: [{status, retryAfter} | {error: [{message,
 * code}]}]} in the order of the requests, and {kind: "closed"}. What a result means is the sink's to say.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Pool } from "undici";

/** @type {{origin: string, connections: number, timeoutMs: number}} */
const { origin, connections, timeoutMs } = workerData;
// The limit covers waiting for the answer's headers and for each part of its body.
const pool = new Pool(origin, { connections, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
/** @type {Map<number, AbortController>} */
const aborts = new Map();
const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);

port.on("message", (/** @type {{kind: string, batch?: number, requests?: {path: string, headers: Record<string, string>, body: string}[], concurrency?: number}} */ message) => {
  if (message.kind === "abort") {
    aborts.get(/** @type {number} */ (message.batch))?.abort();
  } else if (message.kind === "close") {
    for (const controller of aborts.values()) controller.abort();
    void pool.destroy().finally(() => port.postMessage({ kind: "closed" }));
  } else if (message.kind === "post") {
    void post(/** @type {number} */ (message.batch), message.requests ?? [], message.concurrency ?? 1);
  }
});

/**
 * @param {number} batch
 * @param {{path: string, headers: Record<string, string>, body: string}[]} requests
 * @param {number} concurrency
 */
async function post(batch, requests, concurrency) {
  const controller = new AbortController();
  aborts.set(batch, controller);
  /** @type {unknown[]} */
  const results = new Array(requests.length);
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const index = next++;
      results[index] = await one(/** @type {{path: string, headers: Record<string, string>, body: string}} */ (requests[index]), controller.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, lane));
  aborts.delete(batch);
  port.postMessage({ kind: "done", batch, results });
}

/**
 * @param {{path: string, headers: Record<string, string>, body: string}} request
 * @param {AbortSignal} signal
 */
async function one(request, signal) {
  try {
    const response = await pool.request({ path: request.path, method: "POST", headers: request.headers, body: request.body, signal });
    // The body is not wanted: read and dropped, so the connection goes back to the pool.
    await response.body.dump();
    const retryAfter = response.headers["retry-after"];
    return { status: response.statusCode, retryAfter: typeof retryAfter === "string" ? retryAfter : null };
  } catch (err) {
    return { error: chain(err) };
  }
}

/** An error and its causes as plain data (an Error does not cross threads whole). @param {unknown} err */
function chain(err) {
  /** @type {{message: string, code: string | undefined}[]} */
  const links = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = /** @type {{code?: unknown}} */ (e).code;
    links.push({ message: e instanceof Error ? e.message : String(e), code: typeof code === "string" ? code : undefined });
    e = e instanceof Error ? e.cause : undefined;
  }
  return links;
}
