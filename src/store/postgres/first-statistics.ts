import type { Logger } from "../../core/logger.js";
import type { Db } from "./db.js";

/** Operations this instance creates before it checks that the table has planner statistics. */
export const FIRST_STATISTICS_AFTER_ROWS = 1000;

/**
 * Gives a never-analysed operations table its first planner statistics once this instance has started
 * enough operations, rather than leaving that to autovacuum (up to a minute away, autovacuum_naptime).
 * Without statistics PostgreSQL guesses a claim's conditions match a handful of rows and plans a
 * sequential scan and a sort of the whole table for every claim batch instead of walking the claim index
 * to its limit: a first bulk start of 20,000 operations was claimed 64 at a time at 25–30 ms a claim
 * (auto_explain), against well under a millisecond with statistics. Once a table has any, autovacuum keeps
 * them, and the claim index, being partial (unfinished rows), stays the plan whatever the mix of states.
 *
 * At most once per process, in the background: the start that crosses the threshold is not held back.
 */
export class FirstStatistics {
  #created = 0;
  #checked = false;
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  /** Counts `rows` created; past the threshold, analyses the table if it never was. */
  created(rows: number): void {
    if (this.#checked) return;
    this.#created += rows;
    if (this.#created < FIRST_STATISTICS_AFTER_ROWS) return;
    this.#checked = true;
    this.#pending = this.#analyseIfNever().catch((error: unknown) =>
      this.log("longrun: could not give the operations table its first statistics (autovacuum will)", error),
    );
  }

  /** Settles once an ANALYZE under way has ended: the store closes its pool after it, not under it. */
  settled(): Promise<void> {
    return this.#pending;
  }

  async #analyseIfNever(): Promise<void> {
    const table = this.db.options.table;
    const { rows } = await this.db.query<{ never: boolean }>(
      undefined,
      `SELECT last_analyze IS NULL AND last_autoanalyze IS NULL AS never FROM pg_stat_user_tables WHERE relid = $1::regclass`,
      [table],
    );
    if (rows[0]?.never === true) await this.db.query(undefined, `ANALYZE ${table}`, []);
  }
}
