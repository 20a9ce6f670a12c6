import { Code } from "../core/code.js";
import type { ServerOptions } from "../server.js";
import { parseDuration } from "./duration.js";
import { CliError } from "./exit.js";
import { collectList, optionOf } from "./setting-option.js";
import type { Option } from "commander";

export interface NotifyFlags {
  notify: string[];
  notifySecret?: string;
  notifyEvents?: string[];
  notifyPayload: string;
  notifyRetryFor: number;
  notifyTimeout: number;
}

export type ServeNotify = Pick<ServerOptions, "notify" | "notifyRetryForMs">;

/** The options of `serve` for completion notifications. */
export function notifyOptions(): Option[] {
  return [
    optionOf("notify", "<urls>", undefined, "(repeatable, or comma-separated)").argParser(collectList),
    optionOf("notifySecret", "<secret>"),
    optionOf("notifyEvents", "<types>", undefined, "(comma-separated)").argParser(collectList),
    optionOf("notifyPayload", "<JSON|NONE>"),
    optionOf("notifyRetryForMs", "<duration>", parseDuration),
    optionOf("notifyTimeoutMs", "<duration>", parseDuration),
  ];
}

/** The flags as server options: each URL a target with the shared secret, event filter, payload and timeout. */
export function serveNotify(flags: NotifyFlags): ServeNotify {
  const payload = flags.notifyPayload.toUpperCase();
  if (payload !== "JSON" && payload !== "NONE") throw new CliError(Code.INVALID_ARGUMENT, `--notify-payload must be JSON or NONE, not ${JSON.stringify(flags.notifyPayload)}`);
  if (flags.notify.length === 0) return {};
  return {
    notify: flags.notify.map((url) => ({
      url,
      secret: flags.notifySecret,
      eventTypes: flags.notifyEvents,
      payloadFormat: payload,
      timeoutMs: flags.notifyTimeout,
    })),
    notifyRetryForMs: flags.notifyRetryFor,
  };
}
