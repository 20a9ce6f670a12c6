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
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type OutgoingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from "../core/webhook-signature.js";
import { DELIVERED, describeError, failed, mapBounded, redactedUrl, retry, timeoutOf } from "./delivery.js";
import type { DeliveryOutcome, Notification, Sink, SinkOptions } from "./sink.js";

/** How many notifications of a batch are in flight at once. */
const CONCURRENCY = 16;
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
  readonly #url: string;
  readonly #authorization: string | undefined;
  readonly #secret: string | undefined;
  readonly #timeoutMs: number;
  readonly #subscription: string;
  readonly #now: () => Date;
  /**
   * node:http(s) with a keep-alive agent of the sink's own, not fetch: undici's fetch costs about 2.7 times
   * the CPU per POST (≈ 470 µs against ≈ 175 µs on the benchmark machine), and a webhook POST per finished
   * operation is most of what notifications add to a finish (bench/notify).
   */
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

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
      parsed.username = "";
      parsed.password = "";
    }
    this.#url = parsed.href;
    this.#secret = options.secret === "" ? undefined : options.secret;
    this.#timeoutMs = timeoutOf(options.timeoutMs);
    this.#subscription = options.subscription ?? DEFAULT_PUSH_SUBSCRIPTION;
    this.#now = now;
    const https = parsed.protocol === "https:";
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? httpsRequest : httpRequest;
  }

  async deliver(batch: readonly Notification[], signal: AbortSignal): Promise<DeliveryOutcome[]> {
    // One abort listener per batch (not one per request on the dispatcher's long-lived signal).
    const inFlight = new Set<() => void>();
    const onAbort = (): void => {
      for (const abort of inFlight) abort();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await mapBounded(batch, CONCURRENCY, (notification) => this.#post(notification, signal, inFlight));
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  #post(notification: Notification, signal: AbortSignal, inFlight: Set<() => void>): Promise<DeliveryOutcome> {
    if (signal.aborted) return Promise.resolve(retry("aborted (shutting down)"));
    const body = pushEnvelope(notification, this.#subscription);
    const headers: OutgoingHttpHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    if (this.#authorization !== undefined) headers.authorization = this.#authorization;
    if (this.#secret !== undefined) {
      headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookPayload(this.#secret, body, this.#now().getTime() / 1000);
    }
    return new Promise<DeliveryOutcome>((resolve) => {
      let outcome: DeliveryOutcome | undefined;
      const settle = (o: DeliveryOutcome): void => {
        if (outcome !== undefined) return;
        outcome = o;
        resolve(o);
      };
      let req: ClientRequest | undefined;
      const stop = (o: DeliveryOutcome): void => {
        settle(o);
        req?.destroy();
      };
      const abort = (): void => stop(retry("aborted (shutting down)"));
      // The limit covers the whole exchange: a body still streaming when it runs out is cut.
      const timer = setTimeout(() => stop(retry(`no answer in ${this.#timeoutMs} ms`)), this.#timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        inFlight.delete(abort);
      };
      inFlight.add(abort);
      req = this.#request(this.#url, { method: "POST", headers, agent: this.#agent }, (response) => {
        const retryAfter = response.headers["retry-after"];
        settle(outcomeOfStatus(response.statusCode ?? 0, response.statusMessage ?? "", typeof retryAfter === "string" ? retryAfter : null, this.#now()));
        // The body is not wanted: read and dropped, so the connection goes back to the agent.
        response.resume();
      });
      req.on("error", (err) => settle(retry(describeError(err))));
      // After the response ended, or the request failed or was destroyed.
      req.on("close", done);
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }
}

/** A receiver's answer as an outcome. */
export function outcomeOf(response: Response, now: Date): DeliveryOutcome {
  return outcomeOfStatus(response.status, response.statusText, response.headers.get("retry-after"), now);
}

/** The same from the status, its reason phrase and the `Retry-After` header. */
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
