/**
 * Reading model inputs and writing results for BatchOptimizeTours.
 *
 * The real service reads and writes Cloud Storage (`gs://bucket/object` in `GcsSource.uri` /
 * `GcsDestination.uri`). This example reads and writes local files instead: the same fields carry
 * `file://` URIs (e.g. `file:///tmp/in.json`). Any other scheme, `gs://` included, is refused at start
 * with INVALID_ARGUMENT (see `validateBatchRequest`).
 *
 * Formats (`DataFormat`): JSON is proto3 JSON of `OptimizeToursRequest` (input) and `OptimizeToursResponse`
 * (output). PROTO_TEXT (protobuf text format) is refused at start: @bufbuild/protobuf has no text-format
 * codec, and this example adds no dependency for one.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createRegistry, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Code, invalidArgument, RpcError } from "../../src/index.js";
import {
  DataFormat,
  file_google_maps_routeoptimization_v1_route_optimization_service,
  OptimizeToursRequestSchema,
  OptimizeToursResponseSchema,
  type BatchOptimizeToursRequest,
  type OptimizeToursRequest,
  type OptimizeToursResponse,
} from "./gen/google/maps/routeoptimization/v1/route_optimization_service_pb.js";

const registry = createRegistry(file_google_maps_routeoptimization_v1_route_optimization_service);

/** Checks what can be checked before the operation starts; throws INVALID_ARGUMENT naming the field. */
export function validateBatchRequest(request: BatchOptimizeToursRequest): void {
  if (request.modelConfigs.length === 0) throw invalidArgument("model_configs", "at least one model config is required");
  request.modelConfigs.forEach((config, i) => {
    const at = `model_configs[${i}]`;
    const input = config.inputConfig;
    const output = config.outputConfig;
    if (!input) throw invalidArgument(`${at}.input_config`, "is required");
    if (!output) throw invalidArgument(`${at}.output_config`, "is required");
    const inUri = input.source.case === "gcsSource" ? input.source.value.uri : "";
    const outUri = output.destination.case === "gcsDestination" ? output.destination.value.uri : "";
    checkUri(`${at}.input_config.gcs_source.uri`, inUri);
    checkUri(`${at}.output_config.gcs_destination.uri`, outUri);
    checkFormat(`${at}.input_config.data_format`, input.dataFormat);
    checkFormat(`${at}.output_config.data_format`, output.dataFormat);
  });
}

function checkUri(field: string, uri: string): void {
  if (!uri) throw invalidArgument(field, "is required");
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidArgument(field, `"${uri}" is not a URI`);
  }
  if (url.protocol !== "file:") {
    throw invalidArgument(field, `only file:// URIs are supported by this example server, got "${uri}"`);
  }
  if (url.host !== "" && url.host !== "localhost") throw invalidArgument(field, `file URI must be local, got "${uri}"`);
}

function checkFormat(field: string, format: DataFormat): void {
  if (format === DataFormat.JSON) return;
  if (format === DataFormat.PROTO_TEXT) throw invalidArgument(field, "PROTO_TEXT is not supported by this example server; use JSON");
  throw invalidArgument(field, "is required (JSON)");
}

/** The error a model fails with: its index and URI in the message, the cause's code. */
function modelError(index: number, uri: string, code: Code, detail: string, cause: unknown): RpcError {
  return new RpcError(code, `model_configs[${index}] (${uri}): ${detail}`, {
    reason: code === Code.NOT_FOUND ? "MODEL_FILE_NOT_FOUND" : "MODEL_INVALID",
    metadata: { modelIndex: String(index), uri },
    cause,
  });
}

function ioCode(err: unknown): Code {
  const errno = (err as NodeJS.ErrnoException)?.code;
  return errno === "ENOENT" || errno === "ENOTDIR" ? Code.NOT_FOUND : Code.INVALID_ARGUMENT;
}

/** Reads model `index`'s OptimizeToursRequest. Aborting the signal rejects with the signal's reason. */
export async function readModel(index: number, uri: string, signal: AbortSignal): Promise<OptimizeToursRequest> {
  let text: string;
  try {
    text = await readFile(fileURLToPath(uri), { encoding: "utf8", signal });
  } catch (err) {
    signal.throwIfAborted();
    throw modelError(index, uri, ioCode(err), `cannot read the input: ${(err as Error).message}`, err);
  }
  try {
    return fromJsonString(OptimizeToursRequestSchema, text, { registry });
  } catch (err) {
    throw modelError(index, uri, Code.INVALID_ARGUMENT, `the input is not an OptimizeToursRequest in JSON: ${(err as Error).message}`, err);
  }
}

/** Writes model `index`'s OptimizeToursResponse as proto3 JSON. */
export async function writeResult(index: number, uri: string, response: OptimizeToursResponse, signal: AbortSignal): Promise<void> {
  const text = toJsonString(OptimizeToursResponseSchema, response, { registry, prettySpaces: 2 });
  try {
    await writeFile(fileURLToPath(uri), text, { encoding: "utf8", signal });
  } catch (err) {
    signal.throwIfAborted();
    throw modelError(index, uri, ioCode(err), `cannot write the output: ${(err as Error).message}`, err);
  }
}

export function inputUri(config: BatchOptimizeToursRequest["modelConfigs"][number]): string {
  return config.inputConfig?.source.case === "gcsSource" ? config.inputConfig.source.value.uri : "";
}

export function outputUri(config: BatchOptimizeToursRequest["modelConfigs"][number]): string {
  return config.outputConfig?.destination.case === "gcsDestination" ? config.outputConfig.destination.value.uri : "";
}
