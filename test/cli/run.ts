import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The package's bin, as `npx longrun` runs it. */
export const BIN = fileURLToPath(new URL("../../bin/longrun.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ANSI codes stripped. */
  stdout: string;
  stderr: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[78]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the output so far matches. */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<void>;
  done: Promise<CliResult>;
}

/** Starts the real CLI (`bin/longrun.js ARGS`) with pipes for stdin/stdout/stderr; killed after `timeoutMs`. */
export function startCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; command?: string[] } = {}): Running {
  const command = options.command ?? [process.execPath, BIN, ...args];
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const key of ["LONGRUN_SERVER", "LONGRUN_DESCRIPTORS", "LONGRUN_API_KEY", "LONGRUN_TOKEN"]) if (options.env?.[key] === undefined) delete env[key];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stripAnsi(out), stderr: stripAnsi(err) });
    }),
  );
  return {
    child,
    stdout: () => stripAnsi(out),
    stderr: () => stripAnsi(err),
    done,
    waitFor: async (pattern, stream = "stderr") => {
      const started = Date.now();
      while (!pattern.test(stream === "stderr" ? stripAnsi(err) : stripAnsi(out))) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${pattern}:\n${out}\n${err}`);
        if (Date.now() - started > 30_000) throw new Error(`no ${pattern} in time:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Runs the real CLI to its end. */
export function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const running = startCli(args, options);
  running.child.stdin!.end();
  return running.done;
}
