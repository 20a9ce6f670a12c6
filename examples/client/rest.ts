/**
 * The same client over REST/JSON, and a handle on an operation started elsewhere (by name).
 *
 *     node --import tsx examples/client/rest.ts [base URL]     # default http://127.0.0.1:8080
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { LongrunClient } from "longrun/client";
import { Demo, file_longrun_demo_v1_demo, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

// Over REST the client reads proto3 JSON, so it must know every type an operation carries up front.
const client = new LongrunClient({ server: process.argv[2] ?? "http://127.0.0.1:8080", transport: "rest", files: [file_longrun_demo_v1_demo] });

const { name } = await client.start(Demo.method.sleep, { duration: durationFromMs(1500) });
const op = client.operation(name, { response: SleepResponseSchema });
const response = await op.result({ timeoutMs: 60_000 });
console.log(`${name}: slept ${response.slept?.seconds}s${response.slept?.nanos ? ` ${response.slept.nanos / 1e6}ms` : ""}`);
console.log(`waited with ${client.pollsForWait ? "GetOperation polling" : "WaitOperation"}`);
client.close();
