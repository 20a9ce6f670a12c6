// Notifications for the sinks' tests, and what they share.
import type { DeliveryOutcome, Notification, Sink } from "../../src/notify/sink.js";

/** The operation every test notification carries (unless NONE). */
export const operation = { name: "operations/abc", done: true, response: { "@type": "type.googleapis.com/google.protobuf.Empty" } };

export function notification(eventId: string, payload: "JSON" | "NONE" = "JSON"): Notification {
  return {
    eventId,
    attributes: { eventType: "OPERATION_DONE", eventId, operationName: "operations/abc", payloadFormat: payload },
    data: payload === "NONE" ? undefined : new TextEncoder().encode(JSON.stringify(operation)),
    publishTime: new Date("2026-12-07T06:00:00.123Z"),
    attempt: 1,
  };
}

/** A signal nothing aborts. */
export const never: AbortSignal = new AbortController().signal;

/** Delivers `n` again and again (a broker coming back) until delivered or 20 s pass; the last outcome. */
export async function deliverUntilDelivered(sink: Sink, n: Notification): Promise<DeliveryOutcome | undefined> {
  const deadline = Date.now() + 20_000;
  let outcome: DeliveryOutcome | undefined;
  do {
    [outcome] = await sink.deliver([n], never);
    if (outcome?.kind === "delivered") break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  } while (Date.now() < deadline);
  return outcome;
}
