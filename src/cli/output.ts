import { fromBinary, toJson, type JsonValue, type Registry } from "@bufbuild/protobuf";
import { AnySchema, timestampMs, type Any, type Timestamp } from "@bufbuild/protobuf/wkt";
import Table from "cli-table3";
import { Code, codeName } from "../core/code.js";
import { operationJson, typeFirst } from "../core/any-json.js";

export { operationJson };
import { OperationSchema, type Operation } from "../gen/google/longrunning/operations_pb.js";
import { typeNameOf } from "../client/any.js";
import { progressPercent } from "../client/progress.js";

/** ANSI colour, only on a TTY and unless NO_COLOR is set. */
export function paint(color: "red" | "green" | "dim" | "bold", text: string, stream: NodeJS.WriteStream): string {
  if (!stream.isTTY || process.env["NO_COLOR"]) return text;
  const codes = { red: [31, 39], green: [32, 39], dim: [2, 22], bold: [1, 22] }[color];
  return `\u001b[${codes[0]}m${text}\u001b[${codes[1]}m`;
}

export function printJson(value: JsonValue): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** RUNNING, DONE, CANCELLED, or FAILED(CODE_NAME). */
export function stateOf(op: Operation): string {
  if (!op.done) return "RUNNING";
  if (op.result.case === "error") {
    const code = op.result.value.code as Code;
    return code === Code.CANCELLED ? "CANCELLED" : `FAILED(${codeName(code)})`;
  }
  return "DONE";
}

/** What can be read from an operation's metadata, when the registry knows its type. */
export interface MetadataView {
  progress: number | undefined;
  createTime: Timestamp | undefined;
}

export function metadataView(op: Operation, registry: Registry, progressFieldPath?: string): MetadataView {
  const any = op.metadata;
  const schema = any ? registry.getMessage(typeNameOf(any)) : undefined;
  if (!any || !schema) return { progress: undefined, createTime: undefined };
  try {
    const message = fromBinary(schema, any.value);
    const createField = schema.fields.find((f) => f.name === "create_time" && f.fieldKind === "message" && f.message.typeName === "google.protobuf.Timestamp");
    const createTime = createField ? ((message as unknown as Record<string, unknown>)[createField.localName] as Timestamp | undefined) : undefined;
    return { progress: progressPercent(message, schema, progressFieldPath), createTime };
  } catch {
    return { progress: undefined, createTime: undefined };
  }
}

/** 45s, 12m, 3h, 2d — how long ago `time` was. */
export function ageOf(time: Timestamp | undefined, now = Date.now()): string {
  if (time === undefined) return "";
  const seconds = Math.max(0, Math.floor((now - timestampMs(time)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function percentText(progress: number | undefined): string {
  return progress === undefined ? "" : `${Math.floor(progress)}%`;
}

/** A borderless table: columns separated by two spaces. */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({
    head,
    chars: {
      top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
      left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
    },
    style: { "padding-left": 0, "padding-right": 0, head: process.stdout.isTTY ? ["bold"] : [], border: [] },
  });
  t.push(...rows);
  return t.toString().split("\n").map((line) => line.trimEnd()).join("\n");
}

/** The JSON of an Any (`{"@type": …, …}`), or a note when its type is unknown. */
export function anyText(any: Any, registry: Registry): string {
  try {
    return JSON.stringify(typeFirst(toJson(AnySchema, any, { registry })), null, 2);
  } catch {
    return `(a ${typeNameOf(any)}, a type this client does not know)`;
  }
}
