import { type Kysely, PostgresAdapter } from 'kysely';

/** The sorts the findings API offers (0001 made an index for each, ending with the fingerprint). */
const SORT_COLUMNS = ['last_seen', 'first_seen', 'severity_rank', 'count'] as const;

/**
 * The findings' sort indexes break ties by insertion order instead of by
 * fingerprint (issue 14, ingest). A fingerprint is a random hash: every new
 * finding landed on a random leaf of each of these indexes, and a group of
 * a few thousand findings dirtied a few thousand pages of each. By insertion
 * order, new findings of one severity (one count, one time) append.
 *
 * SQLite: every index already ends with the rowid, which grows with each
 * insert, so the indexes are the sort column alone and paging breaks ties by
 * rowid. PostgreSQL: a `seq` column (bigserial: existing rows numbered, new
 * ones from the sequence) ends each index and breaks the ties.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  if (postgres) await db.schema.alterTable('findings').addColumn('seq', 'bigserial').execute();
  for (const col of SORT_COLUMNS) {
    await db.schema.dropIndex(`findings_${col}`).execute();
    await db.schema
      .createIndex(`findings_${col}`)
      .on('findings')
      .columns(postgres ? [col, 'seq'] : [col])
      .execute();
  }
}
