/**
 * The webhook sink: an HTTP POST per notification, its body the Pub/Sub push envelope Google sends to push
 * endpoints, so a receiver written for a Pub/Sub push subscription reads it as it is:
 *
 * ```json
 * {"message":{"attributes":{…},"data":"<base64>","messageId":"<eventId>","message_id":"<eventId>",
 *  "publishTime":"2026-12-07T06:00:00.123Z","publish_time":"2026-12-07T06:00:00.123Z"},
 *  "subscription":"projects/longrun/subscriptions/longrun"}
 * ```
 *
 * `data` is absent for `payloadFormat: NONE`. With a secret, a `longrun-signature` header signs the body
 * (core/webhook-signature.ts). Outcomes: 2xx delivered; 408, 429, 5xx, timeouts and connection errors retry
 * (after `Retry-After` when the receiver sends it); any other status (3xx are not followed, other 4xx) failed.
 */
import { setMaxListeners } from "node:events";
import { STATUS_CODES } from "node:http";
import { Pool } from "undici";
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from "../core/webhook-signature.js";
import { DELIVERED, describeError, failed, mapBounded, redactedUrl, retry, timeoutOf } from "./delivery.js";
import type { DeliveryOutcome, Notification, Sink, SinkOptions } from "./sink.js";

/** How many notifications of a batch are in flight at once. */
const CONCURRENCY = 16;
/** Connections to one receiver: the dispatcher keeps up to four batches in delivery. */
const CONNECTIONS = 4 * CONCURRENCY;
export const DEFAULT_PUSH_SUBSCRIPTION = "projects/longrun/subscriptions/longrun";

/** The JSON body of one notification (the Pub/Sub push envelope). */
export function pushEnvelope(notification: Notification, subscription: string): string {
  const publishTime = notification.publishTime.toISOString();
  const message: Record<string, unknown> = { attributes: notification.attributes };
  if (notification.data !== undefined) message.data = Buffer.from(notification.data).toString("base64");
  message.messageId = notification.eventId;
  message.message_id = notification.eventId;
  message.publishTime = publishTime;
  message.publish_time = publishTime;
  return JSON.stringify({ message, subscription });
}

export class WebhookSink implements Sink {
  readonly name: string;
  readonly #path: string;
  readonly #authorization: string | undefined;
  readonly #secret: string | undefined;
  readonly #timeoutMs: number;
  readonly #subscription: string;
  readonly #now: () => Date;
  /**
   * undici's connection pool, keep-alive, to the receiver's origin: a POST costs about half the CPU it
   * costs with node:http (38 against 80 µs per notification, signed, measured on the benchmark machine),
   * and fetch (also undici, with the WHATWG layers) about six times as much. A webhook POST per finished
   * operation is most of what notifications add to a finish (bench/notify).
   */
  readonly #pool: Pool;

  /** `url`: http:// or https://; user:password@ in it become a Basic Authorization header. */
  constructor(url: string | URL, options: SinkOptions = {}, now: () => Date = () => new Date()) {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new Error(`A webhook URL is http:// or https://, not ${parsed.protocol}//`);
    }
    this.name = redactedUrl(parsed);
    if (parsed.username !== "" || parsed.password !== "") {
      const userinfo = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      this.#authorization = `Basic ${Buffer.from(userinfo).toString("base64")}`;
    }
    this.#path = `${parsed.pathname}${parsed.search}`;
    this.#secret = options.secret === "" ? undefined : options.secret;
    this.#timeoutMs = timeoutOf(options.timeoutMs);
    this.#subscription = options.subscription ?? DEFAULT_PUSH_SUBSCRIPTION;
    this.#now = now;
    // The limit covers waiting for the answer's headers and for each part of its body.
    this.#pool = new Pool(parsed.origin, { connections: CONNECTIONS, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs });
  }

  async deliver(batch: readonly Notification[], signal: AbortSignal): Promise<DeliveryOutcome[]> {
    // One listener on the dispatcher's long-lived signal per batch; the batch's own signal goes to each request.
    const batchAbort = new AbortController();
    setMaxListeners(CONCURRENCY + 1, batchAbort.signal);
    const onAbort = (): void => batchAbort.abort();
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await mapBounded(batch, CONCURRENCY, (notification) => this.#post(notification, batchAbort.signal));
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  async #post(notification: Notification, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (signal.aborted) return retry("aborted (shutting down)");
    const body = pushEnvelope(notification, this.#subscription);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#authorization !== undefined) headers["authorization"] = this.#authorization;
    if (this.#secret !== undefined) {
      headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookPayload(this.#secret, body, this.#now().getTime() / 1000);
    }
    try {
      const response = await this.#pool.request({ path: this.#path, method: "POST", headers, body, signal });
      // The body is not wanted: read and dropped, so the connection goes back to the pool.
      await response.body.dump();
      const retryAfter = response.headers["retry-after"];
      return outcomeOfStatus(response.statusCode, STATUS_CODES[response.statusCode] ?? "", typeof retryAfter === "string" ? retryAfter : null, this.#now());
    } catch (err) {
      if (signal.aborted) return retry("aborted (shutting down)");
      const code = (err as { code?: unknown }).code;
      if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return retry(`no answer in ${this.#timeoutMs} ms`);
      return retry(describeError(err));
    }
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

/** A receiver's answer as an outcome: from its status, the status's reason phrase and `Retry-After`. */
export function outcomeOfStatus(status: number, statusText: string, retryAfter: string | null, now: Date): DeliveryOutcome {
  if (status >= 200 && status < 300) return DELIVERED;
  const reason = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  if (status === 408 || status === 429 || status >= 500) {
    return retry(reason, retryAfterMs(retryAfter, now));
  }
  return failed(reason);
}

/** A `Retry-After` header (delay-seconds or an HTTP-date) in milliseconds from `now`; undefined if absent or malformed. */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}
