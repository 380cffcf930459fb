import type { Kysely } from 'kysely';

/**
 * Server-wide settings (the fleet's agent configuration first) and the
 * downsampled metrics.
 *
 * `settings` holds one JSON value per key; who changed it last and when are
 * kept beside it (the audit log has the history).
 *
 * `metric_rollups` holds the 5-minute and 1-hour buckets that raw samples
 * become with age (../metrics.ts). A bucket keeps, per value, the sum, the
 * number of samples that had it and the maximum, rather than the average:
 * samples that arrive late for a bucket already written are then merged in
 * exactly (sum + sum, n + n), and the average is sum / n when read. `at` is
 * the bucket's start, in the same ISO-8601 text as every other time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('metric_rollups')
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    // 300 or 3600.
    .addColumn('resolution_s', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('samples', 'integer', (c) => c.notNull())
    .addColumn('cpu_sum', 'double precision')
    .addColumn('cpu_n', 'integer', (c) => c.notNull())
    .addColumn('cpu_max', 'double precision')
    .addColumn('memory_sum', 'double precision')
    .addColumn('memory_n', 'integer', (c) => c.notNull())
    .addColumn('memory_max', 'bigint')
    .addColumn('connections_sum', 'double precision')
    .addColumn('connections_n', 'integer', (c) => c.notNull())
    .addColumn('connections_max', 'double precision')
    .addPrimaryKeyConstraint('metric_rollups_pk', ['host_id', 'subject', 'resolution_s', 'at'])
    .execute();
  // Listing a host without a subject filter; rolling up and pruning walk by (resolution, time).
  await db.schema
    .createIndex('metric_rollups_host_at')
    .on('metric_rollups')
    .columns(['host_id', 'resolution_s', 'at'])
    .execute();
  await db.schema
    .createIndex('metric_rollups_resolution_at')
    .on('metric_rollups')
    .columns(['resolution_s', 'at'])
    .execute();
}
