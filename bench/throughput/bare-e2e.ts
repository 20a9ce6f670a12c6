/**
 * The end-to-end mode against the bare grpc-js server (bare-lro-server.ts, a process of its own): the same
 * load (e2e-load.ts) with the same client, so longrun ÷ bare is what longrun's own work costs against
 * serving the two calls at all.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { loadClient, type LoadClientKind } from "../support/load-client.js";
import { cpuMeter, startAndWait } from "./e2e-load.js";
import { profileEnv } from "./longrun-env.js";
import type { SystemSpec, ThroughputResult } from "./systems.js";

const BARE_LRO_SERVER = fileURLToPath(new URL("./bare-lro-server.ts", import.meta.url));

export async function bareEndToEnd(
  spec: SystemSpec,
  n: number,
  inflight: number,
  warmup: number,
  client: LoadClientKind,
  profileDir: string | undefined,
): Promise<ThroughputResult> {
  const child = spawn(process.execPath, ["--import", "tsx", BARE_LRO_SERVER], {
    env: { ...process.env, ...profileEnv(profileDir, client === "lean" ? `${spec.id}-e2e` : `${spec.id}-e2e-${client}`) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const listening = /gRPC listening on (\S+)/.exec(out);
        if (listening) resolve(listening[1]!);
      });
      child.once("exit", (code) => reject(new Error(`the bare server exited with ${code} before listening:\n${out}`)));
    });
    const loader = loadClient(client, address);
    try {
      await startAndWait([loader], inflight, warmup);
      const cpu = cpuMeter([child.pid!]);
      const began = performance.now();
      await startAndWait([loader], inflight, n);
      const seconds = (performance.now() - began) / 1000;
      const cpuPerJobUs = cpu(n);
      return {
        system: spec.id,
        label: spec.label,
        mode: "e2e",
        client,
        jobs: n,
        inflight,
        seconds,
        jobsPerSecond: n / seconds,
        concurrency: "— (no handler: constants)",
        doneMeans: "WaitOperation answered (a constant done Operation)",
        cpuPerJobUs,
      };
    } finally {
      loader.close();
    }
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}
