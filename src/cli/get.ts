import { Command } from "commander";
import { clientCommand } from "./client-command.js";
import { ageOf, anyText, metadataView, operationJson, paint, percentText, printJson, stateOf } from "./output.js";
import { codeName, type Code } from "../core/code.js";

/** `longrun get NAME`: one operation, its state, progress, metadata and result. */
export function getCommand(): Command {
  return clientCommand("get", "show one operation", async ({ client, types, flags }, [name]) => {
    const op = await client.get(name!);
    await types.learn([op]);
    if (flags.json) {
      printJson(operationJson(op, client.registry));
      return 0;
    }
    const view = metadataView(op, client.registry);
    const rows: [string, string][] = [
      ["name", op.name],
      ["method", (await types.methodOf(op)) ?? ""],
      ["state", stateOf(op)],
      ["progress", percentText(view.progress)],
      ["age", ageOf(view.createTime)],
    ];
    if (op.metadata) rows.push(["metadata", anyText(op.metadata, client.registry)]);
    if (op.result.case === "response") rows.push(["response", anyText(op.result.value, client.registry)]);
    if (op.result.case === "error") {
      const { code, message } = op.result.value;
      rows.push(["error", paint("red", `${codeName(code as Code)} (${code}): ${message}`, process.stdout)]);
    }
    const width = Math.max(...rows.map(([key]) => key.length)) + 2;
    for (const [key, value] of rows) {
      if (value === "") continue;
      const indented = value.split("\n").join("\n" + " ".repeat(width));
      process.stdout.write(`${key.padEnd(width)}${indented}\n`);
    }
    return 0;
  }).argument("<name>", "the operation's name, operations/…");
}
