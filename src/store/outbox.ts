/**
 * The outbox of completion notifications, as the Store contract speaks of it (store.ts re-exports these):
 * events written in the transaction of the finish that causes them, then claimed, settled and listed as
 * operations are.
 */
import type { OperationView } from "./records.js";

/** A notification to send about an operation (completion notifications: src/notify/). */
export interface NewEvent {
  /** Unique; the same on every attempt to deliver it (receivers dedupe by it). */
  id: string;
  /** The configured destination (a sink's key) it goes to. */
  destination: string;
  /** OPERATION_SUCCEEDED, OPERATION_FAILED, OPERATION_CANCELLED, or a profile's own name for them. */
  type: string;
  /** What the receiver reads besides the operation (names as the profile spells them). */
  attributes: Readonly<Record<string, string>>;
  /** Whether the operation goes with it (`payloadFormat` JSON) or only the attributes (NONE). */
  withPayload: boolean;
  /**
   * Written already claimed (attempt 1, leased to `owner` until `expireTime`): the instance that finishes
   * the operation hands the event to its dispatcher straight away, with no claim statement on the way out;
   * should it die first, another claims the event once the lease expires. Only for an event that can be
   * the operation's sole pending one for its destination (no earlier event to wait for): the caller's to know.
   */
  lease?: { owner: string; expireTime: number } | undefined;
}

/** An event about a given operation, written on its own (Store.appendEvents). */
export interface OperationEvent extends NewEvent {
  operationId: string;
}

/** The operation as an event carries it: what it was when the event was written. */
export type EventSnapshot = Omit<OperationView, "id" | "principal" | "resource" | "endTime">;

/**
 * An event in the outbox: what it is about, the operation as it was when the event was written (a
 * snapshot: deleting or purging the operation afterwards takes nothing from it), and where its delivery
 * stands. Delivered events leave the outbox; pending ones wait for a dispatcher; failed ones stay until
 * retried or deleted.
 */
export interface EventRecord extends NewEvent {
  /** The order events were written in; per (operation, destination) they are delivered in this order. */
  seq: number;
  operationId: string;
  method: string;
  operation: EventSnapshot;
  state: "pending" | "failed";
  /** Delivery attempts made (counting one in flight under a lease). */
  attempt: number;
  /** Not claimable before this time (retry backoff). */
  runAfter: number;
  createTime: number;
  /** When the current retry window began: createTime, or when an operator last retried it. */
  windowStart: number;
  leaseOwner: string | undefined;
  leaseExpireTime: number | undefined;
  /** Why the last attempt did not deliver it. */
  lastError: string | undefined;
}

export interface EventClaim {
  owner: string;
  /** Only events for these destinations (the sinks this instance has). */
  destinations: readonly string[];
  limit: number;
  leaseMs: number;
  now: number;
}

/** What became of a claimed event's delivery attempt; fenced by attempt, as operation writes are. */
export type EventSettlement =
  | { id: string; attempt: number; outcome: "delivered" }
  | { id: string; attempt: number; outcome: "retry"; runAfter: number; error: string }
  | { id: string; attempt: number; outcome: "failed"; error: string };

export interface EventQuery {
  /** Only events in this state; both when undefined. */
  state?: "pending" | "failed" | undefined;
  limit: number;
  /** Keyset cursor: only events written after this one (by seq). */
  afterSeq?: number | undefined;
}
