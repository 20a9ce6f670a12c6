import { Command, Option } from "commander";
import type { ClientFlags } from "./connection.js";
import { clientCommand } from "./client-command.js";
import { parseDuration } from "./duration.js";
import { follow } from "./follow.js";

export interface FollowFlags extends ClientFlags {
  timeout?: number;
  progressField?: string;
}

export function timeoutOption(): Option {
  return new Option("--timeout <duration>", "give up waiting after this long (exit 4); the operation goes on").argParser(parseDuration);
}

export function progressFieldOption(): Option {
  return new Option("--progress-field <field>", "the metadata field holding progress in percent (default: progress_percent or another percentage field)");
}

/** `longrun wait NAME`: a live progress bar until the operation is done, then its result. */
export function waitCommand(): Command {
  return clientCommand<FollowFlags>("wait", "wait for an operation with a progress bar, then print its result", async (conn, [name], flags) => {
    const op = await conn.client.get(name!);
    return follow(conn, op, { timeoutMs: flags.timeout, progressField: flags.progressField });
  })
    .argument("<name>", "the operation's name, operations/…")
    .addOption(timeoutOption())
    .addOption(progressFieldOption());
}
