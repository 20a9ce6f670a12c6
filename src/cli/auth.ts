import { randomBytes } from "node:crypto";
import { Command, Option } from "commander";
import { hashApiKey } from "../auth/api-key-hash.js";
import { Code } from "../core/code.js";

/** What `new-key` puts before the random part: a key is recognisable (in a leaked log, to a secret scanner) and never starts with `-`. */
export const API_KEY_PREFIX = "lr_";

/** `longrun auth …`: API keys for the auth file (`longrun serve --auth FILE`). */
export function authCommand(): Command {
  const hashKey = new Command("hash-key")
    .description("print the SHA-256 (hex) of an API key, as the auth file's apiKeys[].sha256 holds it")
    .argument("[key]", "the key; read from stdin when not given (one trailing newline trimmed), which keeps it out of shell history")
    .action(async (key: string | undefined, _flags: unknown, command: Command) => {
      const text = key ?? (await readStdin()).replace(/\r?\n$/, "");
      if (text === "") command.error("error: the key is empty", { exitCode: Code.INVALID_ARGUMENT });
      process.stdout.write(`${hashApiKey(text)}\n`);
    });
  const newKey = new Command("new-key")
    .description(`make a random API key (${API_KEY_PREFIX} + 32 random bytes, base64url); print it, its SHA-256 and an apiKeys entry for the auth file`)
    .addOption(new Option("--principal <principal>", "the principal of the entry printed").default("serviceAccount:CHANGE-ME"))
    .action((flags: { principal: string }) => {
      const key = newApiKey();
      const sha256 = hashApiKey(key);
      // The whole output is one YAML document: the key, its hash, and the entry to copy.
      process.stdout.write(
        [
          `key: ${key}`,
          `sha256: ${sha256}`,
          "",
          "# For the auth file (longrun serve --auth FILE); give the principal a role in its bindings.",
          "apiKeys:",
          `  - sha256: ${sha256}`,
          `    principal: ${JSON.stringify(flags.principal)}`,
          "",
        ].join("\n"),
      );
    });
  const command = new Command("auth").description("API keys for the auth file of `longrun serve --auth`");
  for (const sub of [hashKey, newKey]) command.addCommand(sub.showHelpAfterError().exitOverride());
  return command;
}

/** A new API key: the prefix and 32 bytes from the CSPRNG, base64url (43 characters). */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
