import { Command } from "commander";
import { clientCommand } from "./client-command.js";
import { printJson } from "./output.js";

/** `longrun delete NAME`: DeleteOperation. */
export function deleteCommand(): Command {
  return clientCommand("delete", "delete an operation (the server forgets it; it is not cancelled)", async ({ client, flags }, [name]) => {
    await client.delete(name!);
    if (flags.json) printJson({});
    else process.stdout.write(`Deleted ${name}.\n`);
    return 0;
  }).argument("<name>", "the operation's name, operations/…");
}
