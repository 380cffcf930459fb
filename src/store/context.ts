import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { HostGaps } from './types.ts';

/** What the store's parts share: the database and the clock they judge expiry and host status by. */
export interface StoreContext {
  db: Kysely<Database>;
  now: () => number;
  gaps: HostGaps;
}
