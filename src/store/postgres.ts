import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KyselyStore, type StoreOptions } from './kysely-store.ts';
import type { Database } from './schema.ts';

/**
 * The scaled-out store. The URL is handed to pg as is, so `sslmode`,
 * `options=-c search_path=…` and the like work as in libpq; the tables
 * (schema_migrations too) go in the connection's current schema.
 */
export async function createPostgresStore(url: string, options: StoreOptions = {}): Promise<KyselyStore> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const schema = rows[0]?.schema;
    if (!schema) throw new Error('the connection has no current schema (check search_path)');
    return new KyselyStore(
      db,
      {
        kind: 'postgres',
        sizeBytes: async () => {
          const r = await sql<{
            size: string | number;
          }>`select pg_database_size(current_database()) as size`.execute(db);
          return Number(r.rows[0]?.size ?? 0);
        },
      },
      options,
    );
  } catch (e) {
    await db.destroy();
    throw e;
  }
}

export async function openPostgresStore(url: string, options: StoreOptions = {}): Promise<KyselyStore> {
  const store = await createPostgresStore(url, options);
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
