/**
 * The Redis Streams sink: `redis://[[user]:password@]host[:port]/[DB/]STREAM[?maxlen=N]` (`rediss://` for
 * TLS; port 6379 and database 0 by default). The path's last segment is the stream (percent-decoded, so a
 * stream name with a slash is written %2F); a segment before it, digits only, is the database number:
 * `redis://host:6379/notifications`, `redis://host:6379/2/notifications`. With `maxlen`, each XADD trims the
 * stream to about N entries (`MAXLEN ~ N`).
 *
 * Each notification is `XADD STREAM [MAXLEN ~ N] * eventId <id> publishTime <RFC 3339> [data <operation
 * JSON>] attr:<name> <value>…` — `data` absent for `payloadFormat: NONE`, one `attr:` field per attribute.
 * A batch is one pipeline: one round trip. XADD cannot drop a repeat, so a stream may hold an event twice
 * (at least once): consumers dedupe on `eventId`. Every error retries (Redis down or loading, a timeout, a
 * key that is not a stream: all for an operator to fix, nothing lost meanwhile). One connection per sink,
 * made at the first delivery, reconnecting on its own; the password never shows in `name` or in reasons.
 */
import { once } from "node:events";
import { Redis, type RedisOptions } from "ioredis";
import { DELIVERED, describeError, raceStop, redactedUrl, retry, timeoutOf } from "./delivery.js";
import type { DeliveryOutcome, Notification, Sink, SinkOptions } from "./sink.js";

export class RedisSink implements Sink {
  readonly name: string;
  readonly stream: string;
  readonly maxLen: number | undefined;
  readonly #redis: Redis;
  readonly #timeoutMs: number;
  #lastError: unknown;
  #closed = false;

  constructor(url: string | URL, options: SinkOptions = {}) {
    const parsed = new URL(url);
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
      throw new Error(`A Redis URL is redis:// or rediss://, not ${parsed.protocol}//`);
    }
    const { db, stream } = pathOf(parsed);
    this.stream = stream;
    this.maxLen = maxLenOf(parsed);
    this.name = redactedUrl(parsed);
    this.#timeoutMs = timeoutOf(options.timeoutMs);
    const redisOptions: RedisOptions = {
      host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: parsed.port === "" ? 6379 : Number(parsed.port),
      db,
      connectionName: "longrun",
      lazyConnect: true,
      // Fail at once while disconnected rather than queue: a queued XADD would go out after its
      // notification was already marked retry, and again at the retry.
      enableOfflineQueue: false,
      connectTimeout: this.#timeoutMs,
      commandTimeout: this.#timeoutMs,
      ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
      ...(parsed.username !== "" ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password !== "" ? { password: decodeURIComponent(parsed.password) } : {}),
    };
    this.#redis = new Redis(redisOptions);
    // ioredis reports connection trouble as events (and logs them unless someone listens): kept for reasons.
    this.#redis.on("error", (err: unknown) => (this.#lastError = err));
  }

  async deliver(batch: readonly Notification[], signal: AbortSignal): Promise<DeliveryOutcome[]> {
    if (this.#closed) return batch.map(() => retry("the Redis sink is closed"));
    if (batch.length === 0) return [];
    const work = this.#xadd(batch).catch((err: unknown) => batch.map(() => this.#retryFor(err)));
    return raceStop(work, signal, this.#timeoutMs, (why) =>
      batch.map(() => retry(why === "aborted" ? "aborted (shutting down)" : `no answer from Redis in ${this.#timeoutMs} ms`)),
    );
  }

  /** The batch as one pipeline of XADDs, once connected. */
  async #xadd(batch: readonly Notification[]): Promise<DeliveryOutcome[]> {
    try {
      await this.#ready();
    } catch (err) {
      return batch.map(() => this.#unreachable(err));
    }
    const pipeline = this.#redis.pipeline();
    const trim = this.maxLen === undefined ? [] : ["MAXLEN", "~", String(this.maxLen)];
    for (const notification of batch) pipeline.xadd(this.stream, ...trim, "*", ...fieldsOf(notification));
    const results = (await pipeline.exec()) ?? [];
    return batch.map((_, i) => {
      const [err] = results[i] ?? [new Error("no reply")];
      return err ? this.#retryFor(err) : DELIVERED;
    });
  }

  /** Resolves when the connection is ready: connects if it is not trying to, else waits for it. */
  async #ready(): Promise<void> {
    const redis = this.#redis;
    if (redis.status === "ready") return;
    if (redis.status === "wait" || redis.status === "end") {
      await redis.connect();
      return;
    }
    // connecting or reconnecting: ready, or the next error (`once` rejects with it); raceStop bounds the wait.
    await once(redis, "ready", { signal: AbortSignal.timeout(this.#timeoutMs) });
  }

  #retryFor(err: unknown): DeliveryOutcome {
    // While disconnected, ioredis fails a command with "Stream isn't writeable…" (no offline queue).
    if (err instanceof Error && err.message.startsWith("Stream isn't writeable")) return this.#unreachable(err);
    return retry(`Redis: ${describeError(err)}`);
  }

  #unreachable(err: unknown): DeliveryOutcome {
    // connect() rejects with "Connection is closed.", the wait for a reconnection ends in an AbortError:
    // the error event before says why.
    const vague = err instanceof Error && (err.name === "AbortError" || /^(Connection is closed\.|Stream isn't writeable)/.test(err.message));
    const cause = vague ? this.#lastError ?? err : err;
    return retry(`Redis is unreachable: ${describeError(cause)}`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#redis.status === "ready") await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }
}

/** The fields of one notification's stream entry, as XADD takes them. */
export function fieldsOf(notification: Notification): string[] {
  const fields = ["eventId", notification.eventId, "publishTime", notification.publishTime.toISOString()];
  if (notification.data !== undefined) fields.push("data", Buffer.from(notification.data).toString("utf8"));
  for (const [name, value] of Object.entries(notification.attributes)) fields.push(`attr:${name}`, value);
  return fields;
}

function pathOf(url: URL): { db: number; stream: string } {
  const segments = url.pathname.split("/").slice(1);
  const form = "redis://host:6379/[DB/]STREAM";
  if (segments.length === 2 && !/^\d+$/.test(segments[0]!)) {
    throw new Error(`The database of a Redis URL is a number (${form}), not "${decodeURIComponent(segments[0]!)}"`);
  }
  const stream = segments.length === 1 || segments.length === 2 ? decodeURIComponent(segments.at(-1)!) : "";
  if (stream === "") throw new Error(`A Redis URL ends in the stream to add to (${form})`);
  return { db: segments.length === 2 ? Number(segments[0]) : 0, stream };
}

function maxLenOf(url: URL): number | undefined {
  const value = url.searchParams.get("maxlen");
  if (value === null) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`maxlen in a Redis URL is a positive whole number, not "${value}"`);
  return Number(value);
}
