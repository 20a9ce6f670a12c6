/**
 * PostgreSQL's physical limit in the same run, for scale: commits per second of the smallest durable write
 * (pgbench, or node-postgres where pgbench is not installed).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freshSchema, POSTGRES_URL } from "../../test/support/postgres.js";
import { pgCounters } from "../support/measure.js";

export interface LimitResult {
  clients: number;
  notify: boolean;
  commitsPerSecond: number;
  /** WAL flushes per commit: below 1 when commits share a flush (group commit). */
  walSyncsPerCommit: number;
  tool: "pgbench" | "node";
}

export const LIMIT_SECONDS = 5;

/**
 * Commits per second of the smallest durable write, one INSERT per transaction, with 1 and 8 clients, and
 * with a pg_notify in each transaction (as longrun's writes carry; a connection LISTENs, as longrun's
 * instances do). PostgreSQL serializes the commits of notifying transactions (a database-wide lock taken
 * before commit and held until the commit record is flushed), which group commit cannot hide.
 */
export async function postgresLimit(): Promise<LimitResult[]> {
  const db = await freshSchema("limit_bench");
  const dir = mkdtempSync(join(tmpdir(), "longrun-limit-"));
  const channel = `${db.schema}_limit`;
  try {
    await db.admin.query(`CREATE SCHEMA "${db.schema}"; CREATE TABLE "${db.schema}".t (id bigserial PRIMARY KEY, v integer NOT NULL)`);
    await db.admin.query(`LISTEN "${channel}"`);
    const pgbench = spawnSync("pgbench", ["--version"]).status === 0;
    const results: LimitResult[] = [];
    for (const clients of [1, 8]) {
      for (const notify of [false, true]) {
        console.log(`\nPostgreSQL limit: ${clients} client(s), ${notify ? "with" : "without"} pg_notify…`);
        const insert = `INSERT INTO "${db.schema}".t (v) VALUES (1)`;
        const statements = notify ? ["BEGIN", insert, `SELECT pg_notify('${channel}', 'x')`, "COMMIT"] : [insert];
        const before = await pgCounters(db.admin);
        const commits = pgbench ? runPgbench(dir, statements, clients) : await runNodeLoop(statements, clients);
        const after = await pgCounters(db.admin);
        const result: LimitResult = {
          clients,
          notify,
          commitsPerSecond: commits / LIMIT_SECONDS,
          walSyncsPerCommit: (after.walSyncs - before.walSyncs) / commits,
          tool: pgbench ? "pgbench" : "node",
        };
        console.log(`  ${result.commitsPerSecond.toFixed(0)} commits/s, ${result.walSyncsPerCommit.toFixed(2)} WAL flushes per commit (${result.tool})`);
        results.push(result);
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

/** Runs the statements as one pgbench script for LIMIT_SECONDS; returns the transactions committed. */
function runPgbench(dir: string, statements: readonly string[], clients: number): number {
  const script = join(dir, "script.sql");
  writeFileSync(script, statements.map((s) => `${s};`).join("\n") + "\n");
  const url = new URL(POSTGRES_URL);
  const output = execFileSync(
    "pgbench",
    ["-n", "-h", url.hostname, "-p", url.port || "5432", "-U", decodeURIComponent(url.username || "postgres"), "-c", String(clients), "-j", String(Math.min(clients, 2)), "-T", String(LIMIT_SECONDS), "-f", script, url.pathname.slice(1)],
    { encoding: "utf8", env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } },
  );
  const processed = /number of transactions actually processed: (\d+)/.exec(output);
  if (!processed) throw new Error(`pgbench printed no transaction count:\n${output}`);
  return Number(processed[1]);
}

/** The same as runPgbench with node-postgres clients, where pgbench is not installed. */
async function runNodeLoop(statements: readonly string[], clients: number): Promise<number> {
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      return client;
    }),
  );
  let committed = 0;
  const end = performance.now() + LIMIT_SECONDS * 1000;
  await Promise.all(
    connections.map(async (client) => {
      while (performance.now() < end) {
        for (const statement of statements) await client.query(statement);
        committed++;
      }
    }),
  );
  await Promise.all(connections.map((c) => c.end()));
  return committed;
}
