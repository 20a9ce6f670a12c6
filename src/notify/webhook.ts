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
import { STATUS_CODES } from "node:http";
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from "../core/webhook-signature.js";
import { DELIVERED, describeError, failed, redactedUrl, retry, timeoutOf } from "./delivery.js";
import { PostThread, type PostRequest, type PostResult } from "./post-thread.js";
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
   * undici's connection pool, keep-alive, to the receiver's origin, in a worker thread: a POST per finished
   * operation is most of what notifications add to a finish (bench/notify), and on a busy server the
   * thread serving RPCs and writing the store is what limits throughput, so the POSTs run beside it. undici
   * because a POST costs about half the CPU it costs with node:http (38 against 80 µs, signed) and a sixth
   * of fetch's.
   */
  readonly #thread: PostThread;

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
    this.#thread = new PostThread({ origin: parsed.origin, connections: CONNECTIONS, timeoutMs: this.#timeoutMs });
  }

  async deliver(batch: readonly Notification[], signal: AbortSignal): Promise<DeliveryOutcome[]> {
    if (signal.aborted) return batch.map(() => retry("aborted (shutting down)"));
    const results = await this.#thread.post(batch.map((n) => this.#request(n)), CONCURRENCY, signal);
    return batch.map((_, i) => (signal.aborted ? retry("aborted (shutting down)") : this.#outcome(results[i])));
  }

  #request(notification: Notification): PostRequest {
    const body = pushEnvelope(notification, this.#subscription);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#authorization !== undefined) headers["authorization"] = this.#authorization;
    if (this.#secret !== undefined) {
      headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookPayload(this.#secret, body, this.#now().getTime() / 1000);
    }
    return { path: this.#path, headers, body };
  }

  #outcome(result: PostResult | undefined): DeliveryOutcome {
    if (result === undefined) return retry("no outcome");
    if ("status" in result) return outcomeOfStatus(result.status, STATUS_CODES[result.status] ?? "", result.retryAfter, this.#now());
    const code = result.error[0]?.code;
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return retry(`no answer in ${this.#timeoutMs} ms`);
    // The chain as it was thrown, for the same reason text as an error in this thread would give.
    let error: Error | undefined;
    for (const link of [...result.error].reverse()) error = new Error(link.message, { cause: error });
    return retry(describeError(error));
  }

  async close(): Promise<void> {
    await this.#thread.close();
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
