import { type Kysely, SqliteAdapter } from 'kysely';

/**
 * The incident workflow (src/cases/, ../incidents.ts).
 *
 * `incidents`: one row per incident, its phase and the times that settle
 * its SLA clocks. `open_key` is the host name while the incident is open
 * and null once closed: its unique index is what keeps one open incident per
 * host when several servers (one PostgreSQL) open incidents at once; the
 * loser of the race joins the winner's incident.
 *
 * `incident_events`: the timeline (finding joined, note, phase change,
 * assignment, action, SLA breach), in insertion order.
 *
 * `incident_findings`: which findings (by fingerprint) an incident holds;
 * the key makes joining idempotent.
 *
 * `incident_indicators`, `campaigns`, `indicator_campaigns`: the wallets,
 * pools, hashes and domains of an incident, and the campaign each indicator
 * belongs to (one campaign per indicator: the key). Incidents sharing an
 * indicator share the campaign; campaigns that meet are merged into the
 * older one (`merged_into`).
 *
 * `incident_sla_breaches`: each breach raised once (per incident, clock
 * and due time), so a restart or a second server does not raise it again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('merged_into', 'text')
    .execute();

  await db.schema
    .createTable('incidents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('host_name', 'text')
    .addColumn('campaign_id', 'text')
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('phase_at', 'text', (c) => c.notNull())
    .addColumn('phase_by', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text')
    .addColumn('links', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('discovery_at', 'text', (c) => c.notNull())
    .addColumn('isolation_met_at', 'text')
    .addColumn('recovery_at', 'text')
    .addColumn('review_met_at', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('open_key', 'text')
    .execute();
  await db.schema.createIndex('incidents_open_key').on('incidents').column('open_key').unique().execute();
  await db.schema.createIndex('incidents_opened').on('incidents').columns(['opened_at', 'id']).execute();
  await db.schema.createIndex('incidents_host').on('incidents').columns(['host_name', 'opened_at']).execute();
  await db.schema.createIndex('incidents_campaign').on('incidents').columns(['campaign_id']).execute();
  await db.schema.createIndex('incidents_phase').on('incidents').columns(['phase', 'opened_at']).execute();

  await db.schema
    .createTable('incident_events')
    .addColumn('seq', sqlite ? 'integer' : 'serial', (c) =>
      sqlite ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('incident_events_incident')
    .on('incident_events')
    .columns(['incident_id', 'seq'])
    .execute();

  await db.schema
    .createTable('incident_findings')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('linked_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_findings_pk', ['incident_id', 'fingerprint'])
    .execute();
  await db.schema
    .createIndex('incident_findings_fingerprint')
    .on('incident_findings')
    .column('fingerprint')
    .execute();

  await db.schema
    .createTable('incident_indicators')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('coin', 'text')
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_indicators_pk', ['incident_id', 'kind', 'value'])
    .execute();
  await db.schema
    .createIndex('incident_indicators_value')
    .on('incident_indicators')
    .columns(['kind', 'value'])
    .execute();

  await db.schema
    .createTable('indicator_campaigns')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('indicator_campaigns_pk', ['kind', 'value'])
    .execute();
  await db.schema
    .createIndex('indicator_campaigns_campaign')
    .on('indicator_campaigns')
    .column('campaign_id')
    .execute();

  await db.schema
    .createTable('incident_sla_breaches')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('clock', 'text', (c) => c.notNull())
    .addColumn('due', 'text', (c) => c.notNull())
    .addColumn('raised_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_sla_breaches_pk', ['incident_id', 'clock', 'due'])
    .execute();
}
