import { execFile } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const PG_ROOT = "/usr/lib/postgresql";

/** How a server goes down: `fast` ends every session (57P01) and checkpoints; `immediate` is a crash (WAL recovery at start). */
export type ShutdownMode = "fast" | "immediate";

/**
 * A throwaway PostgreSQL cluster of a test's own — for the tests that stop or restart the server, which
 * must not touch the machine's shared one (test files run in parallel against it). Trust authentication,
 * user postgres, on 127.0.0.1 at a free port, fsync off; its data directory is removed by `destroy()`.
 */
export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  start(): Promise<void>;
  stop(mode?: ShutdownMode): Promise<void>;
  /** `pg_ctl restart -m MODE`: down and up again, as one command. */
  restart(mode?: ShutdownMode): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops it (immediately) if running, and removes the data directory. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * Why a private cluster cannot be made here, or undefined if it can: it takes root (initdb and the
 * server run as user postgres, through runuser) and a PostgreSQL installation under /usr/lib/postgresql.
 */
export function privatePostgresUnsupported(): string | undefined {
  if (process.getuid?.() !== 0) return "a private PostgreSQL cluster needs root (to run initdb and pg_ctl as user postgres)";
  return undefined;
}

/** The bin directory of the newest PostgreSQL installed under /usr/lib/postgresql; throws if there is none. */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => existsSync(join(PG_ROOT, v, "bin", "initdb")))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`no PostgreSQL server found: no ${PG_ROOT}/<version>/bin/initdb (install the postgresql package)`);
  }
  return join(PG_ROOT, versions[0]!, "bin");
}

/** Creates a cluster in a new temporary directory and starts it. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const unsupported = privatePostgresUnsupported();
  if (unsupported) throw new Error(unsupported);
  const bin = postgresBinDir();
  const { stdout: uid } = await run("id", ["-u", "postgres"]).catch(() => {
    throw new Error("no user postgres on this machine (the postgresql package creates it)");
  });
  const { stdout: gid } = await run("id", ["-g", "postgres"]);
  const dataDir = mkdtempSync(join(tmpdir(), "longrun-pg-"));
  chownSync(dataDir, Number(uid.trim()), Number(gid.trim()));
  const logFile = join(dataDir, "log");
  const asPostgres = (tool: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args], { timeout: 120_000 }).catch((error: unknown) => {
      const e = error as { stderr?: string; message: string };
      throw new Error(`${tool} ${args.join(" ")} failed: ${e.stderr || e.message}\n--- server log ---\n${readLog()}`);
    });
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  let port = 0;
  let running = false;
  const serverOptions = () => `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const pgCtl = (command: string, extra: string[] = []) =>
    asPostgres("pg_ctl", ["-D", dataDir, "-o", serverOptions(), "-l", logFile, "-w", "-t", "60", ...extra, command]);

  try {
    await asPostgres("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
    // A free port now may be taken by the time the server binds it (other test files run meanwhile): try a few.
    for (let tries = 1; ; tries++) {
      port = await freePort();
      try {
        await pgCtl("start");
        break;
      } catch (error) {
        if (tries >= 3) throw error;
      }
    }
    running = true;
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async start() {
      await pgCtl("start");
      running = true;
    },
    async stop(mode = "fast") {
      running = false;
      await pgCtl("stop", ["-m", mode]);
    },
    async restart(mode = "fast") {
      await pgCtl("restart", ["-m", mode]);
      running = true;
    },
    log: readLog,
    async destroy() {
      if (!existsSync(dataDir)) return;
      if (running || existsSync(join(dataDir, "postmaster.pid"))) await pgCtl("stop", ["-m", "immediate"]).catch(() => {});
      running = false;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
