import { createHash } from "node:crypto";
import { Code } from "../core/code.js";
import { newOperationId } from "../core/ids.js";
import type { NewEvent, OperationEvent, StoredError } from "../store/store.js";

/** What an operation ended with, as notifications name it. */
export type FinishOutcome = "SUCCEEDED" | "FAILED" | "CANCELLED";

/** What an event announces: a finish, or (only where a route asks for it) an operation starting to run. */
export type EventKind = FinishOutcome | "STARTED";

/** The generic event types (a profile may name them its own way: NotificationNaming.eventTypeName). */
export const EVENT_TYPES: Readonly<Record<EventKind, string>> = {
  SUCCEEDED: "OPERATION_SUCCEEDED",
  FAILED: "OPERATION_FAILED",
  CANCELLED: "OPERATION_CANCELLED",
  STARTED: "OPERATION_STARTED",
};

const FINISH_OUTCOMES: readonly FinishOutcome[] = ["SUCCEEDED", "FAILED", "CANCELLED"];

/** An operation being finished, as a route sees it. */
export interface FinishingOperation {
  name: string;
  method: string;
  outcome: EventKind;
  /** Its metadata as JSON with proto field names (`{"project_id": …}`), when it has any. */
  metadataJson?: string | undefined;
}

/**
 * How a deployment names its events (a profile module's `notificationNaming`): Storage Transfer says
 * TRANSFER_OPERATION_SUCCESS where longrun says OPERATION_SUCCEEDED, and adds projectId, transferJobName…
 */
export interface NotificationNaming {
  eventTypeName?: (outcome: EventKind) => string;
  /** Attributes added to every event (from the operation's name, method and metadata). */
  attributes?: (operation: FinishingOperation) => Record<string, string>;
  /**
   * What one operation asked for, where its method lets a request say (Storage Transfer's job carries a
   * notificationConfig, copied into the operation's metadata): which event types it wants and in which
   * payload format. It only narrows what the server's targets send: it cannot name a destination — a URL
   * taken from a request would let any caller make the server send requests anywhere.
   */
  choose?: (operation: FinishingOperation) => NotificationChoice | undefined;
}

/** One operation's own choice of events (NotificationNaming.choose). */
export interface NotificationChoice {
  /** Only these event types (as eventTypeName names them); undefined: the route's. */
  eventTypes?: readonly string[] | undefined;
  payloadFormat?: "JSON" | "NONE" | undefined;
}

/**
 * Where the finishes of which operations are announced: one destination (a sink, by its key), and which
 * operations and outcomes go there. Made from the server's `notify` option (src/notify/).
 */
export interface NotificationRoute {
  /** The key of the sink events go to; every instance delivering them must have a sink by that key. */
  destination: string;
  /** Only operations of these methods (full names, `pkg.Service.Method`); all when undefined. */
  methods?: ReadonlySet<string> | undefined;
  /**
   * Only these event types (after eventTypeName); undefined: the three finishes. OPERATION_STARTED goes
   * out only where it is listed.
   */
  eventTypes?: ReadonlySet<string> | undefined;
  /** `payloadFormat` JSON (the operation goes with the event) or NONE (attributes only). */
  withPayload: boolean;
  /** The event type of an outcome. @default EVENT_TYPES */
  eventTypeName?: (outcome: EventKind) => string;
  /** Attributes a profile adds (Storage Transfer: projectId, transferJobName, transferOperationName). */
  extraAttributes?: (operation: FinishingOperation) => Record<string, string>;
  /** The operation's own choice, where its method lets it make one (NotificationNaming.choose). */
  choose?: (operation: FinishingOperation) => NotificationChoice | undefined;
}

export function finishOutcome(error: StoredError | undefined): FinishOutcome {
  if (error === undefined) return "SUCCEEDED";
  return error.code === Code.CANCELLED ? "CANCELLED" : "FAILED";
}

/** Whether the route announces starts too: its finishes' events may then have an earlier one to wait for. */
export function announcesStarts(route: NotificationRoute): boolean {
  return route.eventTypes !== undefined && route.eventTypes.has((route.eventTypeName ?? defaultEventType)("STARTED"));
}

/**
 * The events of one finish, one per route it matches, each with a new id. Attributes: `eventType`,
 * `eventId`, `operationName`, `method`, `payloadFormat`, and the route's own.
 */
export function eventsOf(routes: readonly NotificationRoute[], operation: FinishingOperation): NewEvent[] {
  const events: NewEvent[] = [];
  for (const route of routes) {
    if (route.methods !== undefined && !route.methods.has(operation.method)) continue;
    const type = (route.eventTypeName ?? defaultEventType)(operation.outcome);
    if (route.eventTypes === undefined ? operation.outcome === "STARTED" : !route.eventTypes.has(type)) continue;
    const choice = route.choose?.(operation);
    if (choice?.eventTypes !== undefined && choice.eventTypes.length > 0 && !choice.eventTypes.includes(type)) continue;
    const withPayload = choice?.payloadFormat === undefined ? route.withPayload : choice.payloadFormat === "JSON";
    const id = operation.outcome === "STARTED" ? startedEventId(operation.name, route.destination) : newOperationId();
    events.push({
      id,
      destination: route.destination,
      type,
      withPayload,
      attributes: {
        ...route.extraAttributes?.(operation),
        eventType: type,
        eventId: id,
        operationName: operation.name,
        method: operation.method,
        payloadFormat: withPayload ? "JSON" : "NONE",
      },
    });
  }
  return events;
}

/**
 * The OPERATION_STARTED events of operations just claimed, for the routes that ask for them. Every claim
 * announces again (a crash between a claim and its announcement must not lose it), under the same event id
 * per operation and destination: a repeat is one the outbox skips while the first is pending, and that a
 * receiver dedupes once it was delivered.
 */
export function startEventsOf(routes: readonly NotificationRoute[], operations: readonly { id: string; name: string; method: string; metadataJson?: string | undefined }[]): OperationEvent[] {
  if (!routes.some((r) => r.eventTypes !== undefined)) return [];
  return operations.flatMap((op) => eventsOf(routes, { name: op.name, method: op.method, outcome: "STARTED", metadataJson: op.metadataJson }).map((e) => ({ ...e, operationId: op.id })));
}

/** The event types any of the outcomes may have, for checking a configuration's names. */
export function eventTypeNames(name: (outcome: EventKind) => string = defaultEventType): Set<string> {
  return new Set([...FINISH_OUTCOMES, "STARTED" as const].map(name));
}

function startedEventId(name: string, destination: string): string {
  return createHash("sha256").update(`${name}\0${destination}\0STARTED`).digest("base64url").slice(0, 22);
}

function defaultEventType(outcome: EventKind): string {
  return EVENT_TYPES[outcome];
}
