import { type Kysely, SqliteAdapter } from 'kysely';

/**
 * The first schema. Migrations are forward-only and frozen once released:
 * a change is a new file, never an edit here. Types are the ones both
 * engines share (see ../schema.ts); the one dialect difference is the
 * audit log's insertion counter.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('host_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('enrolments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('uses_left', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('hosts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('os', 'text')
    .addColumn('kernel', 'text')
    .addColumn('addresses', 'text', (c) => c.notNull())
    .addColumn('agent_version', 'text')
    .addColumn('agent', 'integer', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('search_text', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('hosts_last_seen').on('hosts').columns(['last_seen']).execute();

  await db.schema
    .createTable('findings')
    .addColumn('fingerprint', 'text', (c) => c.primaryKey())
    .addColumn('finding_id', 'text', (c) => c.notNull())
    .addColumn('finding', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('severity_rank', 'integer', (c) => c.notNull())
    .addColumn('rule_id', 'text', (c) => c.notNull())
    .addColumn('rule_name', 'text', (c) => c.notNull())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('acknowledged', 'integer', (c) => c.notNull())
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'text')
    .execute();
  // Keyset paging walks (sort key, fingerprint) for every sort the API offers.
  for (const col of ['last_seen', 'first_seen', 'severity_rank', 'count']) {
    await db.schema.createIndex(`findings_${col}`).on('findings').columns([col, 'fingerprint']).execute();
  }
  await db.schema.createIndex('findings_host_name').on('findings').columns(['host_name']).execute();
  await db.schema.createIndex('findings_rule_id').on('findings').columns(['rule_id']).execute();

  await db.schema
    .createTable('finding_techniques')
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('technique', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_techniques_pk', ['fingerprint', 'technique'])
    .execute();
  await db.schema
    .createIndex('finding_techniques_technique')
    .on('finding_techniques')
    .columns(['technique', 'fingerprint'])
    .execute();

  await db.schema
    .createTable('ingest_keys')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ingest_keys_pk', ['actor', 'key'])
    .execute();
  await db.schema.createIndex('ingest_keys_at').on('ingest_keys').columns(['at']).execute();

  await db.schema
    .createTable('audit')
    .addColumn('seq', sqlite ? 'integer' : 'serial', (c) =>
      sqlite ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_at').on('audit').columns(['at', 'seq']).execute();
}
