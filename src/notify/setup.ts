import type { Registry } from "@bufbuild/protobuf";
import { DEFAULTS } from "../core/defaults.js";
import type { Logger } from "../core/logger.js";
import type { Clock } from "../runtime/clock.js";
import { EVENT_TYPES, eventTypeNames, type EventKind, type NotificationNaming, type NotificationRoute } from "../runtime/notifications.js";

export type { NotificationNaming };
import type { Store } from "../store/store.js";
import { Dispatcher } from "./dispatcher.js";
import { openSink } from "./open-sink.js";
import type { Sink } from "./sink.js";

/** One place finished operations are announced to (ServerOptions.notify). */
export interface NotifyTarget {
  /** Where: `https://…` webhook (Pub/Sub push envelope), `nats://host:4222/SUBJECT`, `redis://host:6379/STREAM`. */
  url: string;
  /** HMAC-SHA256 key of the webhook signature (`longrun-signature`); unsigned without it. */
  secret?: string | undefined;
  /** Only finishes of these methods (full names, `pkg.Service.Method`); all when omitted. */
  methods?: readonly string[] | undefined;
  /** Only these event types (OPERATION_SUCCEEDED, OPERATION_FAILED, OPERATION_CANCELLED, or the profile's names); all when omitted. */
  eventTypes?: readonly string[] | undefined;
  /** JSON: the operation goes with each event; NONE: the attributes only. @default "JSON" */
  payloadFormat?: "JSON" | "NONE" | undefined;
  /** One delivery attempt's limit. @default 10 s */
  timeoutMs?: number | undefined;
}


export interface Notifications {
  /** For the runtime: which finishes get which events. */
  routes: NotificationRoute[];
  /** The sinks by destination key (their names, shown in logs). */
  sinks: Map<string, Sink>;
  /**
   * How long a dispatcher holds the events it claimed: long enough for a batch to go out at its sinks'
   * slowest (a batch of 64 goes out 16 at a time: 4 rounds of timeouts), so events are not taken over
   * while being delivered; short enough that a crashed instance's are delivered soon by another.
   */
  leaseMs: number;
}

/**
 * The routes and sinks of the targets. A destination's key is its sink's name (the URL without
 * credentials), the same on every instance given the same targets: any of them delivers any event.
 * Throws (before anything connects) for a URL that names no sink or an event type no outcome has.
 */
export function notificationsOf(targets: readonly NotifyTarget[], naming: NotificationNaming = {}): Notifications {
  const eventTypeName = naming.eventTypeName ?? ((outcome: EventKind) => EVENT_TYPES[outcome]);
  const known = eventTypeNames(eventTypeName);
  const routes: NotificationRoute[] = [];
  const sinks = new Map<string, Sink>();
  let slowestMs = 0;
  try {
    for (const target of targets) {
      for (const type of target.eventTypes ?? []) {
        if (!known.has(type)) throw new Error(`notification event type ${JSON.stringify(type)} is not one of ${[...known].join(", ")}`);
      }
      slowestMs = Math.max(slowestMs, target.timeoutMs ?? DEFAULTS.notifyTimeoutMs.value);
      const sink = openSink(target.url, { secret: target.secret, ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }) });
      let destination = sink.name;
      for (let n = 2; sinks.has(destination); n++) destination = `${sink.name}#${n}`;
      sinks.set(destination, sink);
      routes.push({
        destination,
        methods: target.methods === undefined ? undefined : new Set(target.methods),
        eventTypes: target.eventTypes === undefined ? undefined : new Set(target.eventTypes),
        withPayload: (target.payloadFormat ?? "JSON") === "JSON",
        eventTypeName,
        ...(naming.attributes === undefined ? {} : { extraAttributes: naming.attributes }),
        ...(naming.choose === undefined ? {} : { choose: naming.choose }),
      });
    }
  } catch (err) {
    for (const sink of sinks.values()) void sink.close();
    throw err;
  }
  return { routes, sinks, leaseMs: 5 * slowestMs + 1000 };
}

/** The dispatcher of a server's sinks (none without any). */
export function dispatcherOf(
  notifications: Notifications,
  options: {
    store: Store; registry: Registry; clock: Clock; log: Logger; owner: string; retryForMs?: number | undefined;
    onOutcome?: ((destination: string, outcome: "delivered" | "retried" | "failed") => void) | undefined;
  },
): Dispatcher | undefined {
  if (notifications.sinks.size === 0) return undefined;
  return new Dispatcher({ ...options, sinks: notifications.sinks, leaseMs: notifications.leaseMs, ...(options.retryForMs === undefined ? {} : { retryForMs: options.retryForMs }) });
}
