import { Command, Option } from "commander";
import { clientCommand } from "./client-command.js";
import { follow } from "./follow.js";
import { operationJson, printJson } from "./output.js";
import { progressFieldOption, timeoutOption, type FollowFlags } from "./wait.js";

interface RetryFlags extends FollowFlags {
  wait: boolean;
}

/**
 * `longrun retry NAME`: RetryOperation — a new operation running a failed one's request again (the old one
 * is left as it is); prints the new one's name, or with `--wait` follows it as `longrun wait` does.
 */
export function retryCommand(): Command {
  return clientCommand<RetryFlags>("retry", "run a failed operation's request again as a new operation, linked to the old one", async (conn, [name], flags) => {
    const op = await conn.client.retry(name!);
    if (flags.wait) return follow(conn, op, { timeoutMs: flags.timeout, progressField: flags.progressField });
    if (flags.json) {
      await conn.types.learn([op]);
      printJson(operationJson(op, conn.client.registry));
    } else {
      // The name alone, for scripts: `NEW=$(longrun retry "$OLD")`.
      process.stdout.write(`${op.name}\n`);
    }
    return 0;
  })
    .argument("<name>", "the failed operation's name, operations/…")
    .addOption(new Option("-w, --wait", "follow the new operation until it is done (progress bar, result)").default(false))
    .addOption(timeoutOption())
    .addOption(progressFieldOption());
}
