import { homedir } from 'node:os';
import { join } from 'node:path';
import { StoreConfigError } from './errors.ts';
import type { StoreOptions } from './kysely-store.ts';
import { openPostgresStore } from './postgres.ts';
import { openSqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export { StoreConfigError, StoreInputError } from './errors.ts';
export { MAX_BATCH } from './findings.ts';
export type { StoreOptions } from './kysely-store.ts';
export * from './types.ts';

export interface OpenStoreOptions extends StoreOptions {
  /** Folder of the embedded database (default: $XDG_DATA_HOME/deminer or ~/.local/share/deminer). */
  dataDir?: string;
  /** `postgres://…` or `postgresql://…`; absent: SQLite in dataDir. */
  database?: string;
}

export function defaultDataDir(): string {
  const xdg = process.env.XDG_DATA_HOME;
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'deminer');
}

/** Opens the configured store and brings its schema up to date before returning it. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const { dataDir, database, ...rest } = options;
  if (database !== undefined && database !== '') {
    if (/^postgres(ql)?:\/\//i.test(database)) return openPostgresStore(database, rest);
    // A mistyped URL must not quietly fall back to a local file.
    throw new StoreConfigError(
      `unsupported database URL ${JSON.stringify(database.replace(/\/\/[^@/]*@/, '//…@'))}: use postgres://… or leave it out for SQLite`,
    );
  }
  return openSqliteStore(dataDir ?? defaultDataDir(), rest);
}
