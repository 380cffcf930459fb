import type { Kysely } from 'kysely';

/**
 * What a host can do and what its work costs, as its agent reports them
 * (issue 17, the miner's cost): how many CPUs it has (the share of the host
 * a miner took) and, where its RAPL energy counters allow, the marginal
 * watts of one busy core (the energy a miner's CPU time cost). Null for
 * hosts no agent reports for, and for watts on hosts without counters.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('cpus', 'integer').execute();
  await db.schema.alterTable('hosts').addColumn('watts_per_core', 'real').execute();
}
