import type { Kysely } from 'kysely';

/**
 * The review of an incident (docs/incidents.md): what caused it and what
 * the team learned, free text an analyst sets with PATCH /incidents/{id}
 * and the report carries. Two nullable columns, so incidents stored before
 * this migration read as not reviewed yet. Bounded by the store (../incidents.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One column per statement: SQLite's ALTER TABLE adds one at a time.
  await db.schema.alterTable('incidents').addColumn('root_cause', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('lessons', 'text').execute();
}
