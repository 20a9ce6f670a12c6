import { create, getOption, type DescMethod, type Message } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { http } from "../gen/google/api/annotations_pb.js";
import {
  file_longrun_admin_v1_notifications,
  DeleteNotificationsResponseSchema,
  ListNotificationsResponseSchema,
  Notification_State,
  NotificationSchema,
  Notifications,
  RetryNotificationsResponseSchema,
  type DeleteNotificationsRequest,
  type ListNotificationsRequest,
  type Notification,
  type RetryNotificationsRequest,
} from "../gen/longrun/admin/v1/notifications_pb.js";
import { invalidArgument, Reason } from "../core/errors.js";
import type { RoleLevel } from "../auth/roles.js";
import type { EventRecord, Store } from "../store/store.js";
import type { Endpoint } from "./endpoint.js";

/** The proto of the service, for the server's registry (REST transcoding of its messages). */
export const NOTIFICATIONS_FILE = file_longrun_admin_v1_notifications;

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
/** Event ids one retry or delete call may name. */
const MAX_IDS = 1000;
/** The resource the notification permissions are checked on: the outbox as a whole. */
const RESOURCE = "notifications";

/**
 * `longrun.admin.v1.Notifications`: operators list the outbox of completion notifications (what is still
 * pending, what failed), retry and delete events. Through the server, so it works whatever the store
 * (the SQLite file is the server process's alone) and under the server's auth: permissions
 * `<prefix>.notifications.list` (operator), `.retry` (operator), `.delete` (admin), on `notifications`.
 */
export function notificationsEndpoints(store: Store, options: { permissionPrefix: string; now?: () => number }): Endpoint[] {
  const now = options.now ?? Date.now;
  const m = Notifications.method;
  const endpoint = (method: DescMethod, verb: string, role: RoleLevel, mutation: boolean, invoke: (request: Message) => Promise<Message>): Endpoint => ({
    method,
    httpRules: [getOption(method, http)],
    grpc: true,
    access: { permission: `${options.permissionPrefix}.notifications.${verb}`, resource: () => RESOURCE, mutation, role },
    invoke,
  });
  return [
    endpoint(m.listNotifications, "list", "operator", false, async (r) => {
      const request = r as ListNotificationsRequest;
      if (request.pageSize < 0) throw invalidArgument("page_size", `must not be negative, got ${request.pageSize}`, Reason.INVALID_PAGE_SIZE);
      const pageSize = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(request.pageSize, MAX_PAGE_SIZE);
      const state = request.state === Notification_State.PENDING ? "pending" : request.state === Notification_State.FAILED ? "failed" : undefined;
      const events = await store.listEvents({ state, limit: pageSize + 1, afterSeq: readPageToken(request.pageToken) });
      const page = events.slice(0, pageSize);
      const last = page[page.length - 1];
      return create(ListNotificationsResponseSchema, {
        notifications: page.map(toNotification),
        nextPageToken: events.length > pageSize && last ? pageToken(last.seq) : "",
      });
    }),
    endpoint(m.retryNotifications, "retry", "operator", true, async (r) => {
      const request = r as RetryNotificationsRequest;
      const ids = new Set(checkIds(request.eventIds));
      if (request.allFailed) {
        for (let after = 0; ; ) {
          const failed = await store.listEvents({ state: "failed", limit: 1000, afterSeq: after });
          for (const e of failed) ids.add(e.id);
          if (failed.length < 1000) break;
          after = failed[failed.length - 1]!.seq;
        }
      }
      return create(RetryNotificationsResponseSchema, { eventIds: await store.retryEvents([...ids], now()) });
    }),
    endpoint(m.deleteNotifications, "delete", "admin", true, async (r) => {
      const request = r as DeleteNotificationsRequest;
      return create(DeleteNotificationsResponseSchema, { eventIds: await store.deleteEvents(checkIds(request.eventIds)) });
    }),
  ];
}

function checkIds(ids: readonly string[]): readonly string[] {
  if (ids.length > MAX_IDS) throw invalidArgument("event_ids", `at most ${MAX_IDS} a call, got ${ids.length}`);
  return ids;
}

function toNotification(e: EventRecord): Notification {
  return create(NotificationSchema, {
    eventId: e.id,
    eventType: e.type,
    destination: e.destination,
    operationName: e.operation.name,
    method: e.method,
    state: e.state === "failed" ? Notification_State.FAILED : Notification_State.PENDING,
    attempts: e.attempt,
    createTime: timestampFromMs(e.createTime),
    ...(e.state === "pending" ? { nextAttemptTime: timestampFromMs(Math.max(e.runAfter, e.leaseExpireTime ?? 0)) } : {}),
    lastError: e.lastError ?? "",
    attributes: { ...e.attributes },
  });
}

/** The outbox is listed in seq order; a token is the last seq listed, not secret (the list is the caller's to read). */
function pageToken(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString("base64url");
}

function readPageToken(token: string): number {
  if (token === "") return 0;
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(token, "base64url").toString());
  if (match === null || Buffer.from(`seq:${match[1]}`).toString("base64url") !== token) {
    throw invalidArgument("page_token", "is not a token this server issued", Reason.INVALID_PAGE_TOKEN);
  }
  return Number(match[1]);
}
