/**
 * The shapes of the HTTP API the console reads (docs/api.md). Written by
 * hand rather than imported from src/server: the console is built and
 * type-checked on its own, and reads only what it shows.
 */

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** What a finding can carry (the API has no `info` findings; the overview's counts do). */
export const FINDING_SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

export type SeverityCounts = Record<Severity, number>;

export type Role = 'admin' | 'analyst' | 'viewer' | 'agent' | 'sensor';
export type ConsoleRole = 'admin' | 'analyst' | 'viewer';

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface Endpoint {
  ip?: string;
  port?: number;
  domain?: string;
  [k: string]: unknown;
}

export interface Finding {
  id: string;
  '@timestamp': string;
  fingerprint: string;
  rule: { id: string; name: string; ruleset: string };
  severity: Severity;
  threat: { technique: string[] };
  host: { name: string; hostname?: string };
  process?: {
    pid?: number;
    name?: string;
    executable?: string;
    command_line?: string;
    [k: string]: unknown;
  };
  source?: Endpoint;
  destination?: Endpoint;
  event?: { code?: string };
  winlog?: { channel?: string; record_id?: number | string };
  dns?: { question: { name: string } };
  tls?: { server_name: string };
  message: string;
  evidence: Record<string, unknown>;
  first_seen: string;
  last_seen: string;
  count: number;
  acknowledged: boolean;
  acknowledged_by?: string;
  acknowledged_at?: string;
}

export type HostStatus = 'reporting' | 'stale' | 'offline';

export interface Host {
  id: string;
  name: string;
  status: HostStatus;
  first_seen: string;
  last_seen: string;
  os: string | null;
  kernel: string | null;
  addresses: string[];
  agent_version: string | null;
  agent: boolean;
  /** Newer servers: open (unacknowledged) findings by severity. */
  open_findings?: Partial<SeverityCounts>;
  /** Newer servers: the host's recent CPU samples, oldest first. */
  cpu_recent?: number[];
}

export interface MetricPoint {
  subject: string;
  at: string;
  resolution_s: number;
  cpu?: number;
  memory_bytes?: number;
  connections_per_minute?: number;
  samples?: number;
  cpu_max?: number;
  memory_bytes_max?: number;
}

export interface Overview {
  generated_at: string;
  hosts: { reporting: number; stale: number; offline: number; total: number };
  open_by_severity: Partial<SeverityCounts>;
  active_miners: {
    host: string;
    host_id: string | null;
    fingerprint: string;
    rule: { id: string; name: string };
    severity: Severity;
    last_seen: string;
  }[];
  findings_over_time: {
    bucket_s: number;
    series: ({ t: string | number } & Partial<SeverityCounts>)[];
  };
  top_rules: { id: string; name: string; count: number }[];
  top_techniques: { id: string; count: number }[];
  intel: {
    feeds: {
      name: string;
      ok: boolean;
      last_success: string | null;
      indicators: number | null;
      message: string | null;
    }[];
  } | null;
}

export interface Rule {
  id: string;
  name: string;
  ruleset: string;
  severity: { min: Severity; max: Severity };
  techniques: string[];
  triage: string;
  detectors: string[];
  fired: number;
  last_fired: string | null;
}

export interface Token {
  id: string;
  role: Role;
  name: string;
  host_id?: string;
  created_at: string;
  last_used_at?: string;
  revoked_at?: string;
}

export interface Enrolment {
  id: string;
  expires_at: string;
  uses_left: number;
  created_at?: string;
  created_by?: string;
  /** The expiry has passed: it no longer enrols. */
  expired?: boolean;
}

export interface EnrolmentCreated {
  id: string;
  secret: string;
  expires_at: string;
  uses_left: number;
  install_command?: string;
}

export interface AgentConfig {
  config: { interval_s: number; allowlist?: string; never_alert?: string[] };
  updated_at: string | null;
  updated_by: string | null;
}

/** Where a host's isolation stands (GET /hosts/{id}/isolation, the `isolation` live event). */
export type IsolationState = 'requested' | 'applying' | 'isolated' | 'failed' | 'releasing' | 'released';

export interface IsolationAction {
  seq: number;
  at: string;
  kind: string;
  actor: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface Isolation {
  id: string;
  host_id: string;
  host_name: string;
  state: IsolationState;
  backend: string;
  target: string | null;
  requested_by: string;
  reason: string | null;
  approval: 'not_required' | 'pending' | 'approved';
  approved_by: string | null;
  approved_at: string | null;
  ttl_s: number | null;
  expires_at: string | null;
  attempts: number;
  last_error: { code: string; message: string } | null;
  failed_action: 'isolate' | 'release' | null;
  created_at: string;
  updated_at: string;
  isolated_at: string | null;
  released_at: string | null;
  released_by: string | null;
  actions?: IsolationAction[];
}

export interface HostIsolation {
  isolation: Isolation | null;
  backends: string[];
  default_backend: string | null;
}

export type FeedHealth = 'ok' | 'stale' | 'failing' | 'never-fetched';

export interface IntelFeed {
  name: string;
  format: string;
  role: 'block' | 'allow';
  url: string | null;
  file: string | null;
  enabled: boolean;
  interval_s: number;
  health: FeedHealth;
  status: 'ok' | 'not-modified' | 'failed' | 'empty' | null;
  last_attempt: string | null;
  last_success: string | null;
  indicators: number;
  issues: number;
  message: string | null;
  next_update_due: string | null;
}

export interface IntelFeeds {
  configured: boolean;
  refreshing: boolean;
  items: IntelFeed[];
}

export interface IntelRefresh {
  force: boolean;
  started_at: string;
  finished_at: string;
  outcomes: {
    name: string;
    status: 'ok' | 'not-modified' | 'failed' | 'empty' | 'fresh';
    indicators: number;
    issues: number;
    attempts: number;
    message: string | null;
  }[];
}
