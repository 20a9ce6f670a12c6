// Real brokers for the sinks' tests: nats-server and redis-server as child processes on free ports, each
// test file its own, killed when it ends.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Broker {
  readonly port: number;
  /** Stops the process (SIGKILL: the test wants it gone now) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data directory. */
  restart(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/** A port nothing listens on right now (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startProcess(command: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start in 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}):\n${output}`));
    });
  });
  child.removeAllListeners("exit");
  // Not left running if the test process ends without its after() (a crash, a cancelled run).
  const killOnExit = (): void => void child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  return child;
}

async function startBroker(command: string, argsFor: (port: number, dir: string) => string[], ready: RegExp): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-broker-"));
  let port = await freePort();
  let child: ChildProcess | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      child = await startProcess(command, argsFor(port, dir), ready);
      break;
    } catch (err) {
      if (attempt === 3) throw err; // another process took the port in between: pick another
      port = await freePort();
    }
  }
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };
  return {
    port,
    stop,
    async restart() {
      await stop();
      child = await startProcess(command, argsFor(port, dir), ready);
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `nats-server -js` on 127.0.0.1, its JetStream store in a temporary directory; `extra`: e.g. --user/--pass. */
export function startNatsServer(extra: string[] = []): Promise<Broker> {
  return startBroker("/usr/sbin/nats-server", (port, dir) => ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir, ...extra], /Server is ready/);
}

/** `redis-server` on 127.0.0.1, nothing persisted. */
export function startRedisServer(): Promise<Broker> {
  return startBroker(
    "/usr/bin/redis-server",
    (port, dir) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    /Ready to accept connections/,
  );
}
