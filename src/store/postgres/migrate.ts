import { createHash } from "node:crypto";
import pg from "pg";
import { toStoreError } from "./errors.js";
import { MIGRATIONS } from "./migrations.js";
import { checkSchema, DEFAULT_SCHEMA } from "./options.js";

export interface MigrateOptions {
  connectionString: string;
  /** @default "longrun" */
  schema?: string | undefined;
}

/**
 * Brings the store's schema up to date (`longrun migrate`): creates the schema if missing and applies the
 * migrations it lacks. Returns the versions applied (none when it was up to date).
 */
export async function migrate(options: MigrateOptions): Promise<{ applied: number[] }> {
  const schema = checkSchema(options.schema ?? DEFAULT_SCHEMA);
  const client = new pg.Client({ connectionString: options.connectionString, application_name: "longrun-migrate" });
  try {
    await client.connect();
    return { applied: await applyMigrations(client, schema) };
  } catch (error) {
    throw toStoreError(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Applies the pending migrations in one transaction, under an advisory lock keyed by the schema: instances
 * starting together queue up here, and all but the first find nothing left to do. Refuses a schema that a
 * newer version of longrun migrated.
 */
export async function applyMigrations(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly string[] = MIGRATIONS,
): Promise<number[]> {
  const s = `"${schema}"`;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey(schema)]);
    // Looked up first rather than CREATE … IF NOT EXISTS, which needs the CREATE privilege even when the
    // object exists: a role without it can still open an up-to-date store with migrate on.
    const { rows: found } = await client.query<{ schema: boolean; table: boolean }>(
      `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1) AS schema,
              to_regclass($2) IS NOT NULL AS table`,
      [schema, `${s}.migrations`],
    );
    if (found[0]?.schema !== true) await client.query(`CREATE SCHEMA ${s}`);
    if (found[0]?.table !== true) {
      await client.query(`CREATE TABLE ${s}.migrations (
        version    integer     NOT NULL PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    const current = await currentVersion(client, schema);
    if (current > migrations.length) throw newerSchema(schema, current, migrations.length);
    const applied: number[] = [];
    if (current < migrations.length) {
      await client.query(`SET LOCAL search_path TO ${s}`);
      for (let version = current + 1; version <= migrations.length; version++) {
        await client.query(migrations[version - 1]!);
        await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [version]);
        applied.push(version);
      }
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** For a store opened with migrations off: the schema must be exactly at this code's version. */
export async function checkVersion(client: pg.ClientBase, schema: string, migrations: readonly string[] = MIGRATIONS): Promise<void> {
  const { rows } = await client.query<{ exists: boolean }>("SELECT to_regclass($1) IS NOT NULL AS exists", [`"${schema}".migrations`]);
  const current = rows[0]?.exists === true ? await currentVersion(client, schema) : 0;
  if (current > migrations.length) throw newerSchema(schema, current, migrations.length);
  if (current < migrations.length) {
    throw new Error(
      `the database schema "${schema}" is at version ${current}, older than this version of longrun needs ` +
        `(${migrations.length}); run \`longrun migrate\`, or open the store with migrations on`,
    );
  }
}

async function currentVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM "${schema}".migrations`);
  return rows[0]?.version ?? 0;
}

function newerSchema(schema: string, current: number, supported: number): Error {
  return new Error(
    `the database schema "${schema}" is at version ${current}, newer than this version of longrun supports ` +
      `(${supported}); upgrade longrun to open it`,
  );
}

/** The advisory lock of a schema's migrations: 64 bits of a hash of its name. */
function lockKey(schema: string): string {
  return createHash("sha256").update(`longrun.migrate:${schema}`).digest().readBigInt64BE(0).toString();
}
