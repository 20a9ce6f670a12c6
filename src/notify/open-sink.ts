import { NatsSink } from "./nats.js";
import { RedisSink } from "./redis.js";
import type { Sink, SinkOptions } from "./sink.js";
import { WebhookSink } from "./webhook.js";

const FORMS = "http(s)://… (webhook), nats://host:4222/SUBJECT or tls://… (NATS JetStream), redis://host:6379/[DB/]STREAM or rediss://… (Redis Streams)";

/**
 * The sink a URL names, by its scheme: `http:`/`https:` webhook, `nats:`/`tls:` NATS JetStream,
 * `redis:`/`rediss:` Redis Streams. Connects to nothing yet (the first delivery does). Throws an Error
 * saying what is wrong for a malformed URL or another scheme; its message never repeats the URL, which
 * may hold a password.
 */
export function openSink(url: string, options: SinkOptions = {}): Sink {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`A notification URL is one of ${FORMS}; this one is not a URL`);
  }
  switch (parsed.protocol) {
    case "http:":
    case "https:":
      return new WebhookSink(parsed, options);
    case "nats:":
    case "tls:":
      return new NatsSink(parsed, options);
    case "redis:":
    case "rediss:":
      return new RedisSink(parsed, options);
    default:
      throw new Error(`A notification URL is one of ${FORMS}, not ${parsed.protocol}//…`);
  }
}
