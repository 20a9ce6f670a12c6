/**
 * Where completion notifications go. A sink delivers notifications to one destination (a webhook URL, a
 * NATS JetStream subject, a Redis stream); the dispatcher (dispatcher.ts) takes them from the store's
 * outbox, hands them to the sink in batches, and records each one's outcome. Delivery is at least once:
 * a sink may see a notification again (after a crash, a lost lease or a retry), and passes its `eventId`
 * on so the receiver (or the broker: NATS dedupes by Nats-Msg-Id) can drop the repeat.
 */

/** One event for one destination, as a sink sends it. */
export interface Notification {
  /** Unique per event, the same on every attempt to deliver it. */
  readonly eventId: string;
  /**
   * What the receiver reads besides the payload: `eventType`, `eventId`, `operationName`, `method`,
   * `payloadFormat` (`JSON` | `NONE`), and a profile's own (Storage Transfer: `projectId`,
   * `transferJobName`, `transferOperationName`).
   */
  readonly attributes: Readonly<Record<string, string>>;
  /** The operation as JSON (google.longrunning.Operation in proto3 JSON, UTF-8); undefined for `payloadFormat: NONE`. */
  readonly data: Uint8Array | undefined;
  /** When the event happened (the operation's finish commit). */
  readonly publishTime: Date;
  /** Which attempt this is, 1 for the first. */
  readonly attempt: number;
}

/**
 * What became of one notification. `retry`: try again later (the receiver or broker is down, busy or slow:
 * 429, 5xx, timeouts, connection errors), after `retryAfterMs` if the receiver said so. `failed`: it will
 * never be accepted (another 4xx): kept as failed, visible, not retried unless an operator asks.
 */
export type DeliveryOutcome =
  | { readonly kind: "delivered" }
  | { readonly kind: "retry"; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: "failed"; readonly reason: string };

export interface Sink {
  /** The destination as logs and the CLI show it: no password, token or secret in it. */
  readonly name: string;
  /**
   * Delivers a batch, resolving with one outcome per notification, in order. Never rejects for a
   * delivery problem (that is an outcome); the batch's notifications may go out concurrently. `signal`
   * aborts what is in flight at shutdown (outcomes: retry).
   */
  deliver(batch: readonly Notification[], signal: AbortSignal): Promise<DeliveryOutcome[]>;
  /** Closes connections; idempotent. */
  close(): Promise<void>;
}

export interface SinkOptions {
  /** HMAC-SHA256 key of the webhook signature (`longrun-signature`); unsigned without it. */
  secret?: string | undefined;
  /** How long one delivery attempt may take. @default 10 s */
  timeoutMs?: number;
  /** The `subscription` of the Pub/Sub push envelope. @default "projects/longrun/subscriptions/longrun" */
  subscription?: string;
}
