import { type Kysely, SqliteAdapter, sql } from 'kysely';

/**
 * Isolations of hosts (issue 16): one row per isolation, with where it
 * stands (requested, applying, isolated, failed, releasing, released), the
 * backend and address, who or what asked for it and why, its approval and
 * expiry, the attempts made and the last error; and an append-only action
 * log per isolation (requests sent, answers, read-backs, reports), which
 * the store also copies to the audit log.
 *
 * At most one isolation per host is not `released`: a partial unique index
 * (both engines have them) settles a race between a person and the policy,
 * or between two servers, in the database rather than in a lock.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;

  await db.schema
    .createTable('isolations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('backend', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_by_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('approval', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('approved_at', 'text')
    .addColumn('ttl_s', 'integer')
    .addColumn('expires_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('failed_action', 'text')
    .addColumn('verification', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('isolated_at', 'text')
    .addColumn('released_at', 'text')
    .addColumn('released_by', 'text')
    .execute();
  await sql`create unique index isolations_active on isolations (host_id) where state <> 'released'`.execute(
    db,
  );
  await db.schema
    .createIndex('isolations_host_created')
    .on('isolations')
    .columns(['host_id', 'created_at'])
    .execute();
  await db.schema.createIndex('isolations_created').on('isolations').columns(['created_at', 'id']).execute();
  await db.schema
    .createIndex('isolations_state_expires')
    .on('isolations')
    .columns(['state', 'expires_at'])
    .execute();

  await db.schema
    .createTable('isolation_actions')
    .addColumn('seq', sqlite ? 'integer' : 'serial', (c) =>
      sqlite ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('isolation_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('isolation_actions_isolation')
    .on('isolation_actions')
    .columns(['isolation_id', 'seq'])
    .execute();
}
