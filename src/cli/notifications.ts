import { Command, Option } from "commander";
import { toJson } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "../core/code.js";
import {
  Notification_State,
  NotificationSchema,
  Notifications,
  type Notification,
} from "../gen/longrun/admin/v1/notifications_pb.js";
import type { ClientFlags } from "./connection.js";
import { clientCommand } from "./client-command.js";
import { CliError } from "./exit.js";
import { ageOf, printJson, table } from "./output.js";

interface ListNotificationsFlags extends ClientFlags {
  failed: boolean;
  pending: boolean;
}

interface RetryFlags extends ClientFlags {
  allFailed: boolean;
}

/** `longrun notifications list|retry|delete`: the outbox of completion notifications, through the server. */
export function notificationsCommand(): Command {
  return new Command("notifications")
    .description("completion notifications not delivered yet (pending) or given up on (failed)")
    .addCommand(listNotificationsCommand())
    .addCommand(retryNotificationsCommand())
    .addCommand(deleteNotificationsCommand());
}

function listNotificationsCommand(): Command {
  return clientCommand<ListNotificationsFlags>("list", "list undelivered notifications, oldest first", async ({ client }, _args, flags) => {
    if (flags.failed && flags.pending) throw new CliError(Code.INVALID_ARGUMENT, "--failed and --pending: give one of them, or neither for both");
    const state = flags.failed ? Notification_State.FAILED : flags.pending ? Notification_State.PENDING : Notification_State.STATE_UNSPECIFIED;
    const all: Notification[] = [];
    let pageToken = "";
    do {
      const page = await client.call(Notifications.method.listNotifications, { state, pageSize: 1000, pageToken });
      all.push(...page.notifications);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    if (flags.json) {
      printJson(all.map((n) => toJson(NotificationSchema, n)));
      return 0;
    }
    if (all.length === 0) {
      process.stdout.write(`No ${flags.failed ? "failed" : flags.pending ? "pending" : "undelivered"} notifications.\n`);
      return 0;
    }
    const rows = all.map((n) => [
      n.eventId,
      n.eventType,
      n.operationName,
      n.destination,
      n.state === Notification_State.FAILED ? "failed" : "pending",
      String(n.attempts),
      n.createTime ? ageOf(n.createTime) : "",
      n.state === Notification_State.PENDING && n.nextAttemptTime ? untilText(timestampMs(n.nextAttemptTime)) : "",
      n.lastError,
    ]);
    process.stdout.write(table(["EVENT", "TYPE", "OPERATION", "DESTINATION", "STATE", "ATTEMPTS", "AGE", "NEXT", "LAST ERROR"], rows) + "\n");
    return 0;
  })
    .addOption(new Option("--failed", "only the failed ones").default(false))
    .addOption(new Option("--pending", "only the pending ones").default(false));
}

function retryNotificationsCommand(): Command {
  return clientCommand<RetryFlags>("retry", "deliver events again now (failed ones included)", async ({ client }, args, flags) => {
    const ids = args[0] === undefined ? [] : (args as unknown as string[][])[0]!;
    if (ids.length === 0 && !flags.allFailed) throw new CliError(Code.INVALID_ARGUMENT, "name the events to retry, or give --all-failed");
    const done = await client.call(Notifications.method.retryNotifications, { eventIds: ids, allFailed: flags.allFailed });
    report("retried", done.eventIds, flags.json);
    return 0;
  })
    .argument("[event-id...]", "event ids (longrun notifications list)")
    .addOption(new Option("--all-failed", "every failed event").default(false));
}

function deleteNotificationsCommand(): Command {
  return clientCommand<ClientFlags>("delete", "remove events from the outbox: they will not be delivered", async ({ client }, args, flags) => {
    const ids = (args as unknown as string[][])[0] ?? [];
    if (ids.length === 0) throw new CliError(Code.INVALID_ARGUMENT, "name the events to delete");
    const done = await client.call(Notifications.method.deleteNotifications, { eventIds: ids });
    report("deleted", done.eventIds, flags.json);
    return 0;
  }).argument("<event-id...>", "event ids (longrun notifications list)");
}

function report(verb: string, ids: readonly string[], json: boolean): void {
  if (json) printJson({ eventIds: [...ids] });
  else process.stdout.write(`${verb} ${ids.length} notification${ids.length === 1 ? "" : "s"}${ids.length > 0 ? `: ${ids.join(", ")}` : ""}\n`);
}

function untilText(ms: number): string {
  const s = Math.round((ms - Date.now()) / 1000);
  return s <= 0 ? "now" : `in ${s}s`;
}
