import type { Kysely } from 'kysely';

/** The findings table as 0001 left it (frozen here, whatever ../schema.ts says later). */
interface Before {
  findings: {
    fingerprint: string;
    message: string;
    rule_name: string;
    host_name: string;
    search_text: string;
  };
}

/** Lower-cased text for the case-insensitive `text` filter (the same for both engines: SQLite's lower() is ASCII-only). */
export function findingSearchText(message: string, ruleName: string, hostName: string): string {
  return [message, ruleName, hostName].join('\n').toLowerCase();
}

/**
 * Adds the findings' search column (filled for rows already there) and the
 * per-host metrics table.
 */
export async function up(db: Kysely<Before>): Promise<void> {
  await db.schema
    .alterTable('findings')
    .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  const batch = 500;
  for (let after = ''; ; ) {
    const rows = await db
      .selectFrom('findings')
      .select(['fingerprint', 'message', 'rule_name', 'host_name'])
      .where('fingerprint', '>', after)
      .orderBy('fingerprint')
      .limit(batch)
      .execute();
    for (const r of rows) {
      await db
        .updateTable('findings')
        .set({ search_text: findingSearchText(r.message, r.rule_name, r.host_name) })
        .where('fingerprint', '=', r.fingerprint)
        .execute();
    }
    if (rows.length < batch) break;
    after = rows[rows.length - 1]!.fingerprint;
  }

  // No downsampling yet: samples are kept as sent until prune() removes them.
  await db.schema
    .createTable('metrics')
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('cpu', 'double precision')
    .addColumn('memory_bytes', 'bigint')
    .addColumn('connections_per_minute', 'double precision')
    .execute();
  await db.schema
    .createIndex('metrics_host_subject_at')
    .on('metrics')
    .columns(['host_id', 'subject', 'at'])
    .execute();
  await db.schema.createIndex('metrics_host_at').on('metrics').columns(['host_id', 'at']).execute();
  await db.schema.createIndex('metrics_at').on('metrics').columns(['at']).execute();
}
