import { readFileSync } from "node:fs";
import { fromJson, type DescMessage, type JsonValue, type Message, type Registry } from "@bufbuild/protobuf";
import { Command, Option } from "commander";
import { Code } from "../core/code.js";
import { clientCommand } from "./client-command.js";
import { CliError } from "./exit.js";
import { follow, printOutcome } from "./follow.js";
import { operationJson, printJson, stateOf } from "./output.js";
import { progressFieldOption, timeoutOption, type FollowFlags } from "./wait.js";

interface StartFlags extends FollowFlags {
  data: string;
  wait: boolean;
}

/** `longrun start METHOD --data JSON`: calls any served long-running method; `--wait` follows it. */
export function startCommand(): Command {
  return clientCommand<StartFlags>("start", "start an operation: call a long-running method with a JSON request", async (conn, [query], flags) => {
    const { client, types } = conn;
    const method = await types.findMethod(query!);
    const request = parseRequest(flags.data, method.input, client.registry);
    const handle = await client.start(method, request);
    const op = handle.operation;
    if (flags.wait) return follow(conn, op, { timeoutMs: flags.timeout, progressField: flags.progressField });
    await types.learn([op]);
    if (op.done) return printOutcome(conn, op);
    if (flags.json) printJson(operationJson(op, client.registry));
    else process.stdout.write(`${op.name} ${stateOf(op)}\n`);
    return 0;
  })
    .argument("<method>", "the method: longrun.demo.v1.Demo.Sleep, longrun.demo.v1.Demo/Sleep, or a suffix: demo.Sleep")
    .addOption(new Option("-d, --data <json>", "the request as proto3 JSON; @FILE reads it from a file, - from stdin").default("{}"))
    .addOption(new Option("-w, --wait", "follow the operation until it is done (progress bar, result)").default(false))
    .addOption(timeoutOption())
    .addOption(progressFieldOption());
}

function parseRequest(data: string, schema: DescMessage, registry: Registry): Message {
  let text = data;
  if (data === "-") text = readFileSync(0, "utf8");
  else if (data.startsWith("@")) text = readFileSync(data.slice(1), "utf8");
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new CliError(Code.INVALID_ARGUMENT, `--data is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return fromJson(schema, json, { registry });
  } catch (err) {
    throw new CliError(Code.INVALID_ARGUMENT, `--data is not a valid ${schema.typeName}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
