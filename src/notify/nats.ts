/**
 * The NATS JetStream sink: `nats://[user:password@]host[:port]/SUBJECT[?token=TOKEN]` (`tls://` for TLS;
 * port 4222 by default; the subject percent-decoded, no wildcards). Each notification is a JetStream publish
 * to SUBJECT: the payload is the operation JSON (empty for `payloadFormat: NONE`), the attributes are message
 * headers (values trimmed, as NATS keeps them), with `Longrun-Event-Id` and `Nats-Msg-Id` the event id, so
 * the stream drops a repeat within its duplicate window (2 minutes by default).
 *
 * Outcomes: the stream's PubAck → delivered. Connection errors, timeouts and a subject no stream captures
 * (no responders) retry: the last is an operator's to fix by creating the stream, and nothing is lost while
 * they do. A JetStream API error retries when it is the server's trouble (5xx: e.g. storage full), fails when
 * the stream refuses this message for good (4xx: e.g. larger than its max_msg_size). One connection per sink,
 * made at the first delivery, reconnecting on its own; credentials never show in `name` or in reasons.
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from "@nats-io/transport-node";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstream, JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { DELIVERED, describeError, failed, mapBounded, raceStop, redactedUrl, retry, timeoutOf } from "./delivery.js";
import type { DeliveryOutcome, Notification, Sink, SinkOptions } from "./sink.js";

/** How many publishes of a batch await their PubAck at once (they share the connection). */
const IN_FLIGHT = 64;

interface Connected {
  nc: NatsConnection;
  js: JetStreamClient;
}

export class NatsSink implements Sink {
  readonly name: string;
  readonly subject: string;
  readonly #options: NodeConnectionOptions;
  readonly #timeoutMs: number;
  #connection: Promise<Connected> | undefined;
  #closing: Promise<void> | undefined;

  constructor(url: string | URL, options: SinkOptions = {}) {
    const parsed = new URL(url);
    if (parsed.protocol !== "nats:" && parsed.protocol !== "tls:") {
      throw new Error(`A NATS URL is nats:// or tls://, not ${parsed.protocol}//`);
    }
    this.subject = subjectOf(parsed);
    this.name = redactedUrl(parsed);
    this.#timeoutMs = timeoutOf(options.timeoutMs);
    const token = parsed.searchParams.get("token");
    this.#options = {
      servers: `${parsed.hostname}:${parsed.port || "4222"}`,
      name: "longrun",
      timeout: this.#timeoutMs,
      maxReconnectAttempts: -1,
      ...(parsed.protocol === "tls:" ? { tls: {} } : {}),
      ...(parsed.username !== "" ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : {}),
      ...(token !== null ? { token } : {}),
    };
  }

  async deliver(batch: readonly Notification[], signal: AbortSignal): Promise<DeliveryOutcome[]> {
    if (this.#closing !== undefined) return batch.map(() => retry("the NATS sink is closed"));
    const stopped = (why: "aborted" | "timed out") =>
      retry(why === "aborted" ? "aborted (shutting down)" : `no connection to NATS in ${this.#timeoutMs} ms`);
    let connected: Connected | DeliveryOutcome;
    try {
      connected = await raceStop<Connected | DeliveryOutcome>(this.#connect(), signal, this.#timeoutMs, stopped);
    } catch (err) {
      connected = retry(`cannot connect to NATS: ${describeError(err)}`);
    }
    if ("kind" in connected) return batch.map(() => connected);
    const { js } = connected;
    return mapBounded(batch, IN_FLIGHT, (notification) =>
      raceStop(this.#publish(js, notification), signal, this.#timeoutMs + 1000, (why) =>
        retry(why === "aborted" ? "aborted (shutting down)" : `no PubAck in ${this.#timeoutMs} ms`),
      ),
    );
  }

  async #publish(js: JetStreamClient, notification: Notification): Promise<DeliveryOutcome> {
    try {
      const headers = natsHeaders();
      for (const [key, value] of Object.entries(notification.attributes)) headers.set(key, value);
      headers.set("Longrun-Event-Id", notification.eventId);
      await js.publish(this.subject, notification.data, { msgID: notification.eventId, headers, timeout: this.#timeoutMs });
      return DELIVERED;
    } catch (err) {
      return this.#outcomeOfError(err);
    }
  }

  #outcomeOfError(err: unknown): DeliveryOutcome {
    const name = err instanceof Error ? err.name : "";
    if (err instanceof JetStreamApiError) {
      const reason = `JetStream refused the message: ${err.message} (status ${err.status}, err_code ${err.code})`;
      return err.status >= 500 ? retry(reason) : failed(reason);
    }
    if (name === "JetStreamNotEnabled" || name === "NoResponders") {
      return retry(`no JetStream stream captures subject ${this.subject} (or JetStream is not enabled): create one`);
    }
    if (name === "TimeoutError") return retry(`no PubAck in ${this.#timeoutMs} ms`);
    // A header the NATS protocol cannot carry, a payload over the server's max_payload: never accepted.
    if (name === "InvalidArgumentError") return failed(`NATS refused the message: ${describeError(err)}`);
    return retry(`NATS: ${describeError(err)}`);
  }

  /** The connection, made once; made again at the next delivery if it closed (it reconnects by itself till then). */
  #connect(): Promise<Connected> {
    if (this.#connection === undefined) {
      const connection = connect(this.#options).then((nc) => ({ nc, js: jetstream(nc, { timeout: this.#timeoutMs }) }));
      this.#connection = connection;
      const forget = (): void => {
        if (this.#connection === connection) this.#connection = undefined;
      };
      connection.then(({ nc }) => nc.closed().then(forget), forget);
    }
    return this.#connection;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const connection = this.#connection;
      this.#connection = undefined;
      const connected = await connection?.catch(() => undefined);
      await connected?.nc.close();
    })();
    return this.#closing;
  }
}

/** The subject of a NATS URL: its path without the leading slash, percent-decoded, one literal subject. */
function subjectOf(url: URL): string {
  const subject = decodeURIComponent(url.pathname.slice(1));
  if (!/^[^\s.*>]+(\.[^\s.*>]+)*$/.test(subject)) {
    throw new Error(`A NATS URL ends in the subject to publish to (nats://host:4222/SUBJECT, no wildcards), not "${subject}"`);
  }
  return subject;
}
