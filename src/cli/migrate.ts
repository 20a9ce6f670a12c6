import { Command } from "commander";
import { isPostgresUrl, sqlitePath } from "../store/open.js";
import { migrate as migratePostgres } from "../store/postgres/migrate.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { redactUrl, storeOptions } from "./store-options.js";

export function migrateCommand(): Command {
  const command = new Command("migrate").description("apply the store's schema migrations (serve does it on start unless --no-migrate)");
  for (const option of storeOptions()) command.addOption(option);
  return command.action(async (flags: { store: string; schema: string }) => {
    if (isPostgresUrl(flags.store)) {
      const { applied } = await migratePostgres({ connectionString: flags.store, schema: flags.schema });
      console.log(`longrun: ${redactUrl(flags.store)} schema "${flags.schema}": ${applied.length ? `applied migrations ${applied.join(", ")}` : "up to date"}`);
    } else {
      // The embedded store migrates whenever it is opened.
      const path = sqlitePath(flags.store);
      await SqliteStore.open(path).close();
      console.log(`longrun: ${path}: up to date`);
    }
  });
}
