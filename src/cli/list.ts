import { Command, Option } from "commander";
import type { Operation } from "../gen/google/longrunning/operations_pb.js";
import { Code } from "../core/code.js";
import type { ClientFlags } from "./connection.js";
import { CliError } from "./exit.js";
import { clientCommand } from "./client-command.js";
import { ageOf, metadataView, operationJson, percentText, printJson, stateOf, table } from "./output.js";

interface ListFlags extends ClientFlags {
  filter: string;
  limit?: number;
  parent?: string;
}

/** `longrun list`: operations, newest first on longrun, as a table or proto3 JSON (an array). */
export function listCommand(): Command {
  return clientCommand<ListFlags>("list", "list operations (all pages, up to --limit)", async ({ client, types }, _args, flags) => {
    const operations: Operation[] = [];
    if (flags.parent === undefined && flags.parentPattern !== "") {
      throw new CliError(Code.INVALID_ARGUMENT, `the server names operations under ${flags.parentPattern}: say which parent to list (--parent)`);
    }
    const name = flags.parent ?? flags.collection;
    const pageSize = flags.limit === undefined ? 0 : Math.min(flags.limit, 1000);
    if (flags.limit !== 0) {
      for await (const op of client.list({ name, filter: flags.filter, pageSize })) {
        operations.push(op);
        if (flags.limit !== undefined && operations.length >= flags.limit) break;
      }
    }
    await types.learn(operations);
    if (flags.json) {
      printJson(operations.map((op) => operationJson(op, client.registry)));
      return 0;
    }
    if (operations.length === 0) {
      process.stdout.write("No operations.\n");
      return 0;
    }
    const rows: string[][] = [];
    for (const op of operations) {
      const view = metadataView(op, client.registry);
      rows.push([op.name, (await types.methodOf(op)) ?? "", stateOf(op), percentText(view.progress), ageOf(view.createTime)]);
    }
    process.stdout.write(table(["NAME", "METHOD", "STATE", "PROGRESS", "AGE"], rows) + "\n");
    return 0;
  })
    .addOption(new Option("--filter <filter>", 'an AIP-160 filter, e.g. "done = false"').default(""))
    .addOption(new Option("--limit <n>", "at most this many operations").argParser(nonNegativeInt))
    .addOption(new Option("--parent <name>", "a parent, for parent-scoped names (default: the collection, operations)"));
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${value}" is not a non-negative integer`);
  return n;
}
