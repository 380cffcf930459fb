import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { DeminerError } from '../core/errors.ts';
import { MIGRATIONS } from './migrations/index.ts';
import type { Database } from './schema.ts';

/**
 * Applies pending migrations in name order, all in one transaction, and
 * records each in `schema_migrations`. Our own loop rather than kysely's
 * Migrator: that one introspects every schema of the database to find its
 * table, which breaks when another application creates or drops schemas in
 * the same PostgreSQL database at the same moment. Concurrent openers are
 * serialised by a lock on the table (PostgreSQL) or SQLite's write lock.
 */
export async function runMigrations(db: Kysely<Database>, last?: string): Promise<string[]> {
  const names = Object.keys(MIGRATIONS).sort();
  if (last !== undefined && !names.includes(last)) throw new Error(`unknown migration ${last}`);
  const wanted = last === undefined ? names : names.filter((n) => n <= last);

  await db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();

  return db.transaction().execute(async (trx) => {
    if (trx.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`lock table ${sql.table('schema_migrations')} in share row exclusive mode`.execute(trx);
    } else {
      // A write statement takes SQLite's write lock even when it changes no row.
      await trx.deleteFrom('schema_migrations').where('name', '=', '').execute();
    }
    const applied = new Set(
      (await trx.selectFrom('schema_migrations').select('name').execute()).map((r) => r.name),
    );
    const unknown = [...applied].filter((n) => !names.includes(n));
    if (unknown.length > 0) {
      throw new DeminerError(
        'STORE_SCHEMA_TOO_NEW',
        `the database has migrations this version does not know (${unknown.join(', ')}): it was used by a newer deminer`,
      );
    }
    const done: string[] = [];
    for (const name of wanted) {
      if (applied.has(name)) continue;
      try {
        await MIGRATIONS[name]!.up(trx);
      } catch (e) {
        throw new DeminerError('STORE_MIGRATION_FAILED', `database migration ${name} failed`, { cause: e });
      }
      await trx
        .insertInto('schema_migrations')
        .values({ name, applied_at: new Date().toISOString() })
        .execute();
      done.push(name);
    }
    return done;
  });
}
