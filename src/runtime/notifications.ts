import { Code } from "../core/code.js";
import { newOperationId } from "../core/ids.js";
import type { NewEvent, StoredError } from "../store/store.js";

/** What an operation ended with, as notifications name it. */
export type FinishOutcome = "SUCCEEDED" | "FAILED" | "CANCELLED";

/** The generic event types of a finish (a profile may name them its own way: NotificationRoute.eventTypeName). */
export const EVENT_TYPES: Readonly<Record<FinishOutcome, string>> = {
  SUCCEEDED: "OPERATION_SUCCEEDED",
  FAILED: "OPERATION_FAILED",
  CANCELLED: "OPERATION_CANCELLED",
};

/** An operation being finished, as a route sees it. */
export interface FinishingOperation {
  name: string;
  method: string;
  outcome: FinishOutcome;
  /** Its metadata as JSON with proto field names (`{"project_id": …}`), when it has any. */
  metadataJson?: string | undefined;
}

/**
 * How a deployment names its events (a profile module's `notificationNaming`): Storage Transfer says
 * TRANSFER_OPERATION_SUCCESS where longrun says OPERATION_SUCCEEDED, and adds projectId, transferJobName…
 */
export interface NotificationNaming {
  eventTypeName?: (outcome: FinishOutcome) => string;
  /** Attributes added to every event (from the operation's name, method and metadata). */
  attributes?: (operation: FinishingOperation) => Record<string, string>;
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
  /** Only these event types (after eventTypeName); all when undefined. */
  eventTypes?: ReadonlySet<string> | undefined;
  /** `payloadFormat` JSON (the operation goes with the event) or NONE (attributes only). */
  withPayload: boolean;
  /** The event type of an outcome. @default EVENT_TYPES */
  eventTypeName?: (outcome: FinishOutcome) => string;
  /** Attributes a profile adds (Storage Transfer: projectId, transferJobName, transferOperationName). */
  extraAttributes?: (operation: FinishingOperation) => Record<string, string>;
}

export function finishOutcome(error: StoredError | undefined): FinishOutcome {
  if (error === undefined) return "SUCCEEDED";
  return error.code === Code.CANCELLED ? "CANCELLED" : "FAILED";
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
    if (route.eventTypes !== undefined && !route.eventTypes.has(type)) continue;
    const id = newOperationId();
    events.push({
      id,
      destination: route.destination,
      type,
      withPayload: route.withPayload,
      attributes: {
        ...route.extraAttributes?.(operation),
        eventType: type,
        eventId: id,
        operationName: operation.name,
        method: operation.method,
        payloadFormat: route.withPayload ? "JSON" : "NONE",
      },
    });
  }
  return events;
}

function defaultEventType(outcome: FinishOutcome): string {
  return EVENT_TYPES[outcome];
}
