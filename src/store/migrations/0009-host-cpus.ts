import type { Kysely } from 'kysely';

/**
 * How many CPUs a host has, as its agent reports it (issue 17: the share of
 * the host's capacity a miner took). Null for hosts no agent reports for.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('cpus', 'integer').execute();
}
