import { type Kysely, SqliteAdapter } from 'kysely';

/**
 * Work the server hands an agent (issue 17: forensics and eradication), the
 * evidence it brings back, and each piece of evidence's chain of custody.
 *
 * - `host_tasks`: one row per task (`collect` or `eradicate`), queued for a
 *   host, handed to its agent in a heartbeat answer (`running`), ended by the
 *   agent's report (`done` or `failed`, with what it did and what it verified);
 *   a verified eradication's watch period (since, until, the pids it killed,
 *   and how it ended: `returned` or `quiet`).
 * - `evidence`: one row per file the agent uploaded: kind, name, size and
 *   SHA-256 (computed by the agent and again by the server as it stores it);
 *   the bytes are files under the server's evidence folder, not in the database.
 * - `evidence_custody`: append-only, who did what with each piece and when
 *   (collected, stored, downloaded, verified, hash mismatch).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const seq = (t: Parameters<Kysely<unknown>['schema']['createTable']>[0]) =>
    db.schema
      .createTable(t)
      .addColumn('seq', sqlite ? 'integer' : 'serial', (c) =>
        sqlite ? c.primaryKey().autoIncrement() : c.primaryKey(),
      );

  await db.schema
    .createTable('host_tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('result', 'text')
    // The watch after a verified eradication (src/cases/response.ts): kept here so a restart or a second server keeps it.
    .addColumn('watch_since', 'text')
    .addColumn('watch_until', 'text')
    .addColumn('watch_killed', 'text')
    .addColumn('watch_ended_at', 'text')
    .addColumn('watch_outcome', 'text')
    .execute();
  await db.schema
    .createIndex('host_tasks_watch')
    .on('host_tasks')
    .columns(['watch_ended_at', 'watch_until'])
    .execute();
  await db.schema
    .createIndex('host_tasks_host_state')
    .on('host_tasks')
    .columns(['host_id', 'state'])
    .execute();
  await db.schema
    .createIndex('host_tasks_incident')
    .on('host_tasks')
    .columns(['incident_id', 'requested_at'])
    .execute();

  await db.schema
    .createTable('evidence')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text')
    .addColumn('host_id', 'text', (c) => c.notNull())
    .addColumn('host_name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('meta', 'text')
    .addColumn('collected_at', 'text', (c) => c.notNull())
    .addColumn('stored_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('evidence_incident')
    .on('evidence')
    .columns(['incident_id', 'stored_at'])
    .execute();
  await db.schema.createIndex('evidence_task').on('evidence').columns(['task_id']).execute();

  await seq('evidence_custody')
    .addColumn('evidence_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('evidence_custody_evidence')
    .on('evidence_custody')
    .columns(['evidence_id', 'seq'])
    .execute();
}
