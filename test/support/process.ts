import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  grpcAddress: string;
  httpUrl: string;
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/** Runs the real CLI (`longrun serve …`) in a child process and waits until it prints where it listens. */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--grpc-port", "0", "--http-port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const started = Date.now();
  while (!/REST listening on (\S+)/.test(out)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited early:\n${out}`);
    if (Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`server did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    child,
    grpcAddress: /gRPC listening on (\S+)/.exec(out)?.[1] ?? "",
    httpUrl: /REST listening on (\S+)/.exec(out)?.[1] ?? "",
    output: () => out,
    exited,
  };
}
