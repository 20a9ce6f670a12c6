import { Command } from "commander";
import { clientCommand } from "./client-command.js";
import { printJson } from "./output.js";

/** `longrun cancel NAME`: CancelOperation. */
export function cancelCommand(): Command {
  return clientCommand("cancel", "ask the server to cancel an operation (it then ends with CANCELLED)", async ({ client, flags }, [name]) => {
    await client.cancel(name!);
    if (flags.json) printJson({});
    else process.stdout.write(`Cancellation of ${name} requested.\n`);
    return 0;
  }).argument("<name>", "the operation's name, operations/…");
}
