import { notificationsCommand } from "./notifications.js";
import { Command, CommanderError } from "commander";
import { Code } from "../core/code.js";
import { authCommand } from "./auth.js";
import { cancelCommand } from "./cancel.js";
import { deleteCommand } from "./delete.js";
import { getCommand } from "./get.js";
import { listCommand } from "./list.js";
import { retryCommand } from "./retry.js";
import { migrateCommand } from "./migrate.js";
import { serveCommand } from "./serve.js";
import { startCommand } from "./start.js";
import { waitCommand } from "./wait.js";

// `longrun list | head`: a reader that goes away early is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

const commands = [
  serveCommand(),
  migrateCommand(),
  startCommand(),
  getCommand(),
  listCommand(),
  waitCommand(),
  cancelCommand(),
  retryCommand(),
  deleteCommand(),
  authCommand(),
  notificationsCommand(),
];

const program = new Command("longrun")
  .description("Google-style long-running operations: serve them, start them, watch, wait, cancel, retry and list them")
  .showHelpAfterError()
  .exitOverride();
for (const command of commands) program.addCommand(command.showHelpAfterError().exitOverride());

await program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and --version exit 0; a bad command line is INVALID_ARGUMENT (commander printed why).
    process.exit(err.exitCode === 0 ? 0 : Code.INVALID_ARGUMENT);
  }
  console.error(`longrun: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(Code.UNKNOWN);
});
