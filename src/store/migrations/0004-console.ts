import { type Kysely, sql } from 'kysely';

/**
 * What the web console's overview and host list read without walking the
 * findings table (rows of about 1 KB: a scan of a million is seconds).
 *
 * `open_findings`: per host name, the number of unacknowledged findings of
 * each severity. Kept by the writers of findings in the transaction that
 * changes them (../counters.ts): ingest (a new finding, a re-sighting that
 * moves a finding to another host or severity), acknowledge and prune.
 * The whole fleet's counts are its column sums (one row per host).
 *
 * `finding_sightings`: per hour (its start, in the store's ISO text) and
 * severity, how many findings the ingests carried for that hour (a finding
 * counts at its event time, as last_seen does); added to by each ingest,
 * removed with the findings retention.
 *
 * The findings' rule index becomes (rule_id, last_seen): per rule, the count
 * of findings last seen since a time, and the newest one, are then index
 * range reads. It serves everything the rule_id index it replaces did.
 *
 * Both counters are filled here from the rows already stored. Sightings of
 * findings stored before this migration are approximated: one at
 * first_seen, the rest at last_seen (the store kept no finer history).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('open_findings')
    .addColumn('host_name', 'text', (c) => c.primaryKey())
    .addColumn('low', 'integer', (c) => c.notNull())
    .addColumn('medium', 'integer', (c) => c.notNull())
    .addColumn('high', 'integer', (c) => c.notNull())
    .addColumn('critical', 'integer', (c) => c.notNull())
    .execute();
  const per = (s: string) => sql`sum(case when severity = ${sql.lit(s)} then 1 else 0 end)`;
  await sql`insert into open_findings (host_name, low, medium, high, critical)
    select host_name, ${per('low')}, ${per('medium')}, ${per('high')}, ${per('critical')}
    from findings where acknowledged = 0 group by host_name`.execute(db);

  await db.schema
    .createTable('finding_sightings')
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('sightings', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('finding_sightings_pk', ['hour', 'severity'])
    .execute();
  const hour = (col: string) => sql`substr(${sql.ref(col)}, 1, 13) || ':00:00.000Z'`;
  await sql`insert into finding_sightings (hour, severity, sightings)
    select hour, severity, sum(n) from (
      select ${hour('first_seen')} as hour, severity, 1 as n from findings
      union all
      select ${hour('last_seen')} as hour, severity, count - 1 as n from findings where count > 1
    ) as s group by hour, severity`.execute(db);

  await db.schema
    .createIndex('findings_rule_id_last_seen')
    .on('findings')
    .columns(['rule_id', 'last_seen'])
    .execute();
  await db.schema.dropIndex('findings_rule_id').execute();
}
