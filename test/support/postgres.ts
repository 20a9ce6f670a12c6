import { randomBytes } from "node:crypto";
import pg from "pg";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";

/** The test database: PostgreSQL on the machine (CI starts it), or LONGRUN_TEST_POSTGRES. */
export const POSTGRES_URL = process.env.LONGRUN_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";

export interface TestSchema {
  /** A schema name no other test file uses. */
  schema: string;
  /** The connection URL, tagged with an application_name unique to this schema (to find its backends). */
  url: string;
  applicationName: string;
  /** A connection of the test's own, for setting up and inspecting. */
  admin: pg.Client;
  /** Terminates this schema's server connections (the store's pool and listener), not the admin one. */
  terminateBackends(): Promise<number>;
  drop(): Promise<void>;
}

/** A fresh, empty schema name in the test database; `drop()` removes it and everything in it. */
export async function freshSchema(prefix = "lr"): Promise<TestSchema> {
  const schema = `${prefix}_${randomBytes(6).toString("hex")}`;
  const applicationName = `longrun-test-${schema}`;
  const url = `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}application_name=${applicationName}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL, application_name: `${applicationName}-admin` });
  await admin.connect();
  return {
    schema,
    url,
    applicationName,
    admin,
    terminateBackends: async () => {
      const result = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()",
        [`${applicationName}%`],
      );
      return result.rowCount ?? 0;
    },
    drop: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

/** Two stores on one fresh schema, as two instances would have them ("a" and "b", a pool each). */
export interface TwoInstances {
  db: TestSchema;
  a: PostgresStore;
  b: PostgresStore;
  /** Closes both stores and drops the schema. */
  close(): Promise<void>;
}

export async function twoInstances(prefix: string, options: { poolSize?: number } = {}): Promise<TwoInstances> {
  const db = await freshSchema(prefix);
  const open = (instanceId: string) => PostgresStore.open({ connectionString: db.url, schema: db.schema, instanceId, ...options });
  // One first, so that it migrates the schema alone.
  const a = await open("a");
  const b = await open("b");
  return {
    db,
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      await db.drop();
    },
  };
}

/**
 * Triggers on the schema's operations recording every transition to done (`test_finishes`: id, attempt,
 * errored) and any change to a row already done (`test_violations`): what crash and soak runs check
 * "finished exactly once, never changed after" against.
 */
export async function watchFinishes(db: { schema: string; admin: { query(text: string): Promise<unknown> } }): Promise<void> {
  const s = `"${db.schema}"`;
  await db.admin.query(`
    CREATE TABLE ${s}.test_finishes (id text NOT NULL, attempt int NOT NULL, errored boolean NOT NULL);
    CREATE TABLE ${s}.test_violations (id text NOT NULL, what text NOT NULL);
    CREATE FUNCTION ${s}.test_watch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.state = 'done' THEN
        INSERT INTO ${s}.test_violations VALUES (OLD.id, 'a done operation changed');
      ELSIF NEW.state = 'done' THEN
        INSERT INTO ${s}.test_finishes VALUES (NEW.id, NEW.attempt, NEW.error_code IS NOT NULL);
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER test_watch AFTER UPDATE ON ${s}.operations FOR EACH ROW EXECUTE FUNCTION ${s}.test_watch();
  `);
}
