import type { ColumnType, Generated } from 'kysely';

/**
 * The tables as kysely sees them, for SQLite and PostgreSQL alike. Portable
 * types only: text ids, text JSON, integer 0/1 booleans, and times as
 * ISO-8601 UTC text always written by `Date#toISOString()` (fixed width, so
 * text order is time order on both engines).
 */
export interface Database {
  tokens: TokensTable;
  enrolments: EnrolmentsTable;
  hosts: HostsTable;
  findings: FindingsTable;
  finding_techniques: FindingTechniquesTable;
  ingest_keys: IngestKeysTable;
  metrics: MetricsTable;
  metric_rollups: MetricRollupsTable;
  settings: SettingsTable;
  audit: AuditTable;
  open_findings: OpenFindingsTable;
  finding_sightings: FindingSightingsTable;
  isolations: IsolationsTable;
  isolation_actions: IsolationActionsTable;
  host_tasks: HostTasksTable;
  evidence: EvidenceTable;
  evidence_custody: EvidenceCustodyTable;
  schema_migrations: SchemaMigrationsTable;
  // Incidents (migration 0006, ../incidents.ts).
  incidents: IncidentsTable;
  incident_events: IncidentEventsTable;
  incident_findings: IncidentFindingsTable;
  incident_indicators: IncidentIndicatorsTable;
  campaigns: CampaignsTable;
  indicator_campaigns: IndicatorCampaignsTable;
  incident_sla_breaches: IncidentSlaBreachesTable;
}

/** Migrations applied (../migrator.ts). */
export interface SchemaMigrationsTable {
  name: string;
  applied_at: string;
}

export interface TokensTable {
  id: string;
  /** SHA-256 (hex) of the whole token; the token itself is never stored. */
  hash: string;
  role: string;
  name: string;
  host_id: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface EnrolmentsTable {
  id: string;
  hash: string;
  created_at: string;
  expires_at: string;
  uses_left: number;
  created_by: string;
}

export interface HostsTable {
  id: string;
  /** Unique: the one host identity. */
  name: string;
  os: string | null;
  kernel: string | null;
  /** JSON array of strings. */
  addresses: string;
  agent_version: string | null;
  agent: number;
  /** CPUs the agent reports (migration 0009); null otherwise. */
  cpus: number | null;
  /** Marginal watts of a busy core, from the host's RAPL counters (migration 0009); null without them. */
  watts_per_core: number | null;
  first_seen: string;
  last_seen: string;
  /** Lower-cased name, os, kernel and addresses, for the `text` filter. */
  search_text: string;
}

export interface FindingsTable {
  fingerprint: string;
  /** `id` of the finding kept in `finding` (the latest one seen). */
  finding_id: string;
  /** The latest finding, as JSON. */
  finding: string;
  severity: string;
  /** 1 (low) .. 4 (critical), for sorting by severity. */
  severity_rank: number;
  rule_id: string;
  rule_name: string;
  host_name: string;
  message: string;
  first_seen: string;
  last_seen: string;
  count: number;
  acknowledged: number;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  /** Lower-cased message, rule name and host name (migration 0002). */
  search_text: string;
}

/** One row per ATT&CK technique of a finding, so that a technique filter is an exact match. */
export interface FindingTechniquesTable {
  fingerprint: string;
  technique: string;
}

/** Idempotency keys of ingested batches, per actor (one agent cannot claim another's keys). */
export interface IngestKeysTable {
  actor: string;
  key: string;
  at: string;
}

export interface MetricsTable {
  host_id: string;
  at: string;
  subject: string;
  cpu: number | null;
  /** bigint: PostgreSQL hands it back as a string. */
  memory_bytes: ColumnType<string | number | null, number | null, number | null>;
  connections_per_minute: number | null;
}

/**
 * Downsampled metrics (migration 0003): per value the sum, the number of
 * samples that had it and the maximum, so that late samples merge exactly.
 */
export interface MetricRollupsTable {
  host_id: string;
  subject: string;
  /** 300 or 3600. */
  resolution_s: number;
  /** The bucket's start. */
  at: string;
  /** bigint/integer aggregates: PostgreSQL may hand them back as strings. */
  samples: ColumnType<string | number, number, number>;
  cpu_sum: number | null;
  cpu_n: ColumnType<string | number, number, number>;
  cpu_max: number | null;
  memory_sum: number | null;
  memory_n: ColumnType<string | number, number, number>;
  memory_max: ColumnType<string | number | null, number | null, number | null>;
  connections_sum: number | null;
  connections_n: ColumnType<string | number, number, number>;
  connections_max: number | null;
}

/** Server-wide settings (migration 0003): one JSON value per key. */
export interface SettingsTable {
  key: string;
  /** JSON. */
  value: string;
  updated_at: string;
  /** Token id of whoever set it. */
  updated_by: string;
}

export interface AuditTable {
  /** Insertion order; ties between entries of the same millisecond. */
  seq: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  /** JSON object. */
  detail: string | null;
}

/** Unacknowledged findings per host and severity (migration 0004, kept by ../counters.ts). */
export interface OpenFindingsTable {
  host_name: string;
  low: ColumnType<string | number, number, number>;
  medium: ColumnType<string | number, number, number>;
  high: ColumnType<string | number, number, number>;
  critical: ColumnType<string | number, number, number>;
}

/** Findings ingested per hour (its start) and severity (migration 0004). */
export interface FindingSightingsTable {
  hour: string;
  severity: string;
  /** bigint: PostgreSQL hands it back as a string. */
  sightings: ColumnType<string | number, number, number>;
}

/** Isolations of hosts (migration 0005, ../isolations.ts). */
export interface IsolationsTable {
  id: string;
  host_id: string;
  host_name: string;
  state: string;
  backend: string;
  target: string | null;
  requested_by: string;
  requested_by_id: string | null;
  reason: string | null;
  approval: string;
  approved_by: string | null;
  approved_at: string | null;
  ttl_s: number | null;
  expires_at: string | null;
  attempts: number;
  /** JSON `{ code, message }`. */
  last_error: string | null;
  failed_action: string | null;
  /** JSON: the last read-back. */
  verification: string | null;
  created_at: string;
  updated_at: string;
  isolated_at: string | null;
  released_at: string | null;
  released_by: string | null;
}

/** Each isolation's action log, append-only (migration 0005). */
export interface IsolationActionsTable {
  seq: Generated<number>;
  isolation_id: string;
  at: string;
  kind: string;
  actor: string;
  outcome: string;
  /** JSON object. */
  detail: string | null;
}

/** One incident (migration 0006). `open_key`: the host name while open, null once closed (unique). */
export interface IncidentsTable {
  id: string;
  title: string;
  host_name: string | null;
  campaign_id: string | null;
  severity: string;
  phase: string;
  phase_at: string;
  phase_by: string;
  assignee: string | null;
  /** JSON array of { title, url }. */
  links: string;
  opened_at: string;
  opened_by: string;
  discovery_at: string;
  isolation_met_at: string | null;
  recovery_at: string | null;
  review_met_at: string | null;
  closed_at: string | null;
  updated_at: string;
  open_key: string | null;
  /** The review's free text (migration 0007); null until an analyst sets it. */
  root_cause: ColumnType<string | null, string | null | undefined, string | null>;
  lessons: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An incident's timeline, in insertion order. */
export interface IncidentEventsTable {
  seq: Generated<number>;
  incident_id: string;
  at: string;
  actor: string;
  kind: string;
  /** JSON object. */
  data: string;
}

export interface IncidentFindingsTable {
  incident_id: string;
  fingerprint: string;
  linked_at: string;
}

export interface IncidentIndicatorsTable {
  incident_id: string;
  /** wallet | pool | hash | domain */
  kind: string;
  value: string;
  coin: string | null;
  first_seen: string;
}

export interface CampaignsTable {
  id: string;
  created_at: string;
  /** Set when the campaign met an older one and was folded into it. */
  merged_into: string | null;
}

/** The one campaign each indicator belongs to. */
export interface IndicatorCampaignsTable {
  kind: string;
  value: string;
  campaign_id: string;
}

/** SLA breaches raised (once each). */
export interface IncidentSlaBreachesTable {
  incident_id: string;
  clock: string;
  due: string;
  raised_at: string;
}

/** Work handed to an agent (migration 0008, ../tasks.ts). */
export interface HostTasksTable {
  id: string;
  host_id: string;
  host_name: string;
  incident_id: string | null;
  kind: string;
  state: string;
  /** JSON object. */
  params: string;
  requested_by: string;
  requested_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** JSON object. */
  result: string | null;
  watch_since: string | null;
  watch_until: string | null;
  /** JSON array of pids. */
  watch_killed: string | null;
  watch_ended_at: string | null;
  watch_outcome: string | null;
}

/** A file an agent collected (migration 0008); the bytes are under the evidence folder. */
export interface EvidenceTable {
  id: string;
  task_id: string;
  incident_id: string | null;
  host_id: string;
  host_name: string;
  kind: string;
  name: string;
  /** bigint: PostgreSQL hands it back as a string. */
  bytes: ColumnType<string | number, number, number>;
  sha256: string;
  /** Relative to the evidence folder. */
  path: string;
  /** JSON object. */
  meta: string | null;
  collected_at: string;
  stored_at: string;
}

/** Each piece of evidence's chain of custody, append-only (migration 0008). */
export interface EvidenceCustodyTable {
  seq: Generated<number>;
  evidence_id: string;
  at: string;
  actor: string;
  action: string;
  /** JSON object. */
  detail: string | null;
}
