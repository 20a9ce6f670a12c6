import { Command } from "commander";
import { clientOptions, connect, type ClientFlags, type Connection } from "./connection.js";
import { exitCodeOf, reportError } from "./exit.js";

/**
 * A client subcommand: the common options (--server, --rest, --json, --descriptors), a connection for
 * the action, and the action's exit code (or its error's: reported as one red line) as the process's.
 */
export function clientCommand<F extends ClientFlags>(
  name: string,
  description: string,
  action: (conn: Connection, args: string[], flags: F) => Promise<number>,
): Command {
  const command = new Command(name).description(description);
  for (const option of clientOptions()) command.addOption(option);
  return command.action(async (...received: unknown[]) => {
    // commander passes the arguments, then the options, then the command.
    const cmd = received[received.length - 1] as Command;
    const flags = cmd.opts<F>();
    const args = received.slice(0, cmd.registeredArguments.length) as string[];
    let conn: Connection | undefined;
    let code: number;
    try {
      conn = connect(flags);
      code = await action(conn, args, flags);
    } catch (err) {
      reportError(err);
      code = exitCodeOf(err);
    } finally {
      conn?.close();
    }
    process.exitCode = code;
    // Whatever still holds the event loop (a socket being torn down) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}
