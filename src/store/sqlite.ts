import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect } from 'kysely';
import { KyselyStore, type StoreOptions } from './kysely-store.ts';
import type { Database as Tables } from './schema.ts';

export const SQLITE_FILE = 'deminer.db';

/**
 * The embedded store: `<dataDir>/deminer.db`, in a folder only the owner may
 * read (it holds findings and token hashes). WAL lets readers run beside the
 * writer; synchronous=NORMAL is durable across application crashes and
 * loses at most the last commits on power loss, the usual WAL trade-off.
 * Checkpoints run every 4000 WAL pages (16 MiB with 4 KiB pages) rather than
 * every 1000: an ingest batch dirties a few hundred pages across the
 * findings indexes, and copying them back less often copies each page
 * fewer times; the WAL file is cut back to 64 MiB at most afterwards.
 * Not migrated yet: openSqliteStore() does that.
 */
export function createSqliteStore(dataDir: string, options: StoreOptions = {}): KyselyStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, SQLITE_FILE);
  const sqlite = new Database(file);
  try {
    chmodSync(file, 0o600);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('wal_autocheckpoint = 4000');
    sqlite.pragma('journal_size_limit = 67108864');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
  } catch (e) {
    sqlite.close();
    throw e;
  }
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: cachingPrepare(sqlite) }) });
  return new KyselyStore(
    db,
    {
      kind: 'sqlite',
      sizeBytes: async () => {
        let total = 0;
        for (const suffix of ['', '-wal', '-shm']) {
          try {
            total += statSync(file + suffix).size;
          } catch {
            // -wal and -shm exist only while the database is open in WAL mode.
          }
        }
        return total;
      },
    },
    options,
  );
}

/** Compiled statements kept; each is a few kilobytes of SQLite's memory. */
const STATEMENT_CACHE = 200;

/**
 * better-sqlite3 compiles a statement on every prepare(), and kysely
 * prepares one for every query; an ingest's statements have the same text
 * batch after batch (./findings.ts cuts them into chunks of a few fixed
 * sizes for that reason), so compiled statements are kept by their text,
 * the least recently used dropped past STATEMENT_CACHE. Safe because kysely
 * runs one query at a time on this connection.
 */
function cachingPrepare(sqlite: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

export async function openSqliteStore(dataDir: string, options: StoreOptions = {}): Promise<KyselyStore> {
  const store = createSqliteStore(dataDir, options);
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
