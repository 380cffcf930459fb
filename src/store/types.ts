/**
 * The one data layer of the platform (`deminer serve`, `deminer up`): what
 * the server needs from storage, as one interface that the SQLite
 * (embedded, default) and PostgreSQL implementations both satisfy, proven
 * by one shared test suite (`store.suite.ts`). No HTTP here, no policy:
 * the server decides who may call what.
 */
import type { Finding } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import type { IncidentStore } from './incident-types.ts';
import type { TaskStore } from './task-types.ts';

export const ROLES = ['admin', 'analyst', 'viewer', 'agent', 'sensor'] as const;
export type Role = (typeof ROLES)[number];

/** A bearer token as stored: its hash only, never the token. */
export interface TokenRecord {
  id: string;
  role: Role;
  /** Free text: who or what holds it. */
  name: string;
  /** Agent tokens write for this host only. */
  hostId?: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface EnrolmentRecord {
  id: string;
  createdAt: string;
  expiresAt: string;
  usesLeft: number;
  createdBy: string;
}

export type HostStatus = 'reporting' | 'stale' | 'offline';

export interface HostRecord {
  /** Stable id: the agent's id for agent hosts, else derived from the name. */
  id: string;
  /** The one host identity (core/host-identity.ts canonicalHostName). */
  name: string;
  os?: string;
  kernel?: string;
  addresses: string[];
  agentVersion?: string;
  /** CPUs the host has, as its agent reports them. */
  cpus?: number;
  /** Marginal watts of one busy core, measured by its agent with the RAPL counters. */
  wattsPerCore?: number;
  /** Whether an agent reports for it (else only sensors and hunts name it). */
  agent: boolean;
  firstSeen: string;
  lastSeen: string;
  /** Computed from lastSeen and the server's gaps when read. */
  status: HostStatus;
}

/** Host list orders (ties in name order). `status`: reporting, stale, offline; `open`: by unacknowledged critical, then high, medium, low findings. */
export type HostSort = 'name' | 'last_seen' | 'status' | 'open';

export interface HostQuery {
  status?: HostStatus;
  /** Substring of the name, os, kernel or an address (case-insensitive). */
  text?: string;
  /** Default: name. */
  sort?: HostSort;
  /** Default: asc. */
  order?: 'asc' | 'desc';
  /** 1..500, default 100. */
  limit?: number;
  cursor?: string;
}

export interface HostCounts {
  reporting: number;
  stale: number;
  offline: number;
  total: number;
}

export type SeverityCounts = Record<Severity, number>;

/** Findings ingested in one hour (its start) with one severity. */
export interface SightingCount {
  hour: string;
  severity: Severity;
  count: number;
}

/** A finding as the overview lists it: its indexed columns, not the whole finding. */
export interface FindingSummary {
  fingerprint: string;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  hostName: string;
  /** The id of the host of that name, when the store knows one. */
  hostId?: string;
  lastSeen: string;
}

/** What the store knows of one rule id from its findings. */
export interface RuleActivity {
  ruleId: string;
  /** The rule name, ruleset and severity of its newest finding. */
  ruleName: string;
  ruleset: string;
  severity: Severity;
  /** Findings of the rule (last seen at or after `since` when one was given). */
  findings: number;
  /** The newest last_seen of any of its findings. */
  lastSeen: string;
  /** The techniques of its newest finding. */
  techniques: string[];
}

/** A finding as the server keeps it: de-duplicated by fingerprint. */
export interface StoredFinding {
  finding: Finding;
  firstSeen: string;
  lastSeen: string;
  count: number;
  acknowledged: boolean;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
}

export interface IngestResult {
  /** Fingerprints stored for the first time. */
  stored: number;
  /** Findings whose fingerprint was known: count and last_seen raised. */
  duplicates: number;
  /** True when the idempotency key was seen before: nothing was written. */
  replayed: boolean;
}

export interface FindingQuery {
  severity?: readonly Finding['severity'][];
  rule?: string;
  host?: string;
  technique?: string;
  /** Substring of the message, rule name or host name (case-insensitive). */
  text?: string;
  /** last_seen at or after / before (ISO-8601). */
  from?: string;
  to?: string;
  acknowledged?: boolean;
  /** Default: last_seen descending. */
  sort?: 'last_seen' | 'first_seen' | 'severity' | 'count';
  order?: 'asc' | 'desc';
  /** 1..500, default 100. */
  limit?: number;
  /** Opaque cursor from the previous page's `next`. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface AuditEntry {
  at: string;
  /** Token id, or 'anonymous'. */
  actor: string;
  action: string;
  target?: string;
  /** 'ok' or the refusal (e.g. '401', '403'). */
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface MetricSample {
  hostId: string;
  at: string;
  /** 'host' or a process key (`pid:start` or executable path). */
  subject: string;
  cpu?: number;
  memoryBytes?: number;
  connectionsPerMinute?: number;
  /**
   * Set on what listMetrics() returns: 0 for a sample as sent, else the
   * length in seconds of the bucket it was downsampled into (300, 3600).
   * For a bucket, `at` is its start and the values are averages.
   */
  resolutionS?: number;
  /** Buckets only: how many samples it holds, and the largest value of each. */
  samples?: number;
  cpuMax?: number;
  memoryBytesMax?: number;
  connectionsPerMinuteMax?: number;
}

/** What prune() removed (by retention) and folded into coarser buckets (by age). */
export interface PruneResult {
  findings: number;
  /** Raw samples and buckets removed by the metrics retention. */
  metrics: number;
  audit: number;
  rolledUp: {
    /** Raw samples folded into 5-minute buckets. */
    raw: number;
    /** 5-minute buckets folded into 1-hour buckets. */
    fiveMinute: number;
  };
}

/** The fleet's agent configuration, handed to every agent at heartbeat. */
export interface AgentSettings {
  intervalS: number;
  /** Application allow-list, XML text (detect/host/allowlist/parse.ts). */
  allowlist?: string;
  /** Rule ids (or fingerprints, executables) agents never report. */
  neverAlert?: string[];
}

export interface StoredAgentSettings {
  config: AgentSettings;
  updatedAt: string;
  /** Token id of whoever set it. */
  updatedBy: string;
}

/** Where an isolation stands (migration 0005; the server's responder moves it along). */
export const ISOLATION_STATES = [
  'requested',
  'applying',
  'isolated',
  'failed',
  'releasing',
  'released',
] as const;
export type IsolationStateName = (typeof ISOLATION_STATES)[number];
/** `pending`: waits for an analyst's approval before anything is sent. */
export type ApprovalState = 'not_required' | 'pending' | 'approved';

/** One isolation of one host: at most one that is not `released` per host. */
export interface IsolationRecord {
  id: string;
  hostId: string;
  hostName: string;
  state: IsolationStateName;
  /** A backend name of the server's configuration (`ovs`, `ryu`, …, `agent-nftables`). */
  backend: string;
  /** The address isolated (the host's, or the one given). */
  target?: string;
  /** The token name of the person, or `policy:<rule id>`. */
  requestedBy: string;
  /** The token id of the person (absent for the policy). */
  requestedById?: string;
  /** Why: the fingerprint of the finding that asked for it, or free text. */
  reason?: string;
  approval: ApprovalState;
  approvedBy?: string;
  approvedAt?: string;
  ttlS?: number;
  /** Released at this time unless renewed. */
  expiresAt?: string;
  /** Attempts sent to the device so far (every retry counts). */
  attempts: number;
  lastError?: { code: string; message: string };
  /** With state `failed`: which action failed. */
  failedAction?: 'isolate' | 'release';
  /** The last read-back from the device. */
  verification?: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  isolatedAt?: string;
  releasedAt?: string;
  releasedBy?: string;
}

export type NewIsolation = Pick<
  IsolationRecord,
  'hostId' | 'hostName' | 'backend' | 'requestedBy' | 'approval'
> &
  Partial<Pick<IsolationRecord, 'target' | 'requestedById' | 'reason' | 'ttlS' | 'expiresAt' | 'state'>> & {
    at: string;
  };

/** What may change on an isolation; `null` clears an optional field. */
export interface IsolationPatch {
  state?: IsolationStateName;
  approval?: ApprovalState;
  approvedBy?: string;
  approvedAt?: string;
  target?: string;
  expiresAt?: string | null;
  ttlS?: number | null;
  /** Added to the attempts so far. */
  addAttempts?: number;
  lastError?: { code: string; message: string } | null;
  failedAction?: 'isolate' | 'release' | null;
  verification?: Record<string, unknown> | null;
  isolatedAt?: string | null;
  releasedAt?: string | null;
  releasedBy?: string | null;
  at: string;
}

export interface IsolationQuery {
  state?: readonly IsolationStateName[];
  hostId?: string;
  /** The reason (finding fingerprint) it was requested for. */
  reason?: string;
  /** Only those whose expiry is at or before this time. */
  expiresBefore?: string;
  /** Only those last changed before this time. */
  updatedBefore?: string;
  /** 1..500, default 100. Newest first. */
  limit?: number;
  cursor?: string;
}

/** One step of an isolation, append-only (request sent, controller answer, verification, …). */
export interface IsolationAction {
  seq: number;
  isolationId: string;
  at: string;
  /** request, approve, apply, exchange, verify, retry, report, release, expire, error, … */
  kind: string;
  actor: string;
  /** 'ok' or an error code. */
  outcome: string;
  detail?: Record<string, unknown>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs pending migrations (forward-only); called once on open. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  createToken(t: {
    role: Role;
    name: string;
    hostId?: string;
  }): Promise<{ token: string; record: TokenRecord }>;
  /** The token's record when it is valid (not revoked); updates lastUsedAt. */
  verifyToken(token: string): Promise<TokenRecord | undefined>;
  revokeToken(id: string): Promise<boolean>;
  listTokens(): Promise<TokenRecord[]>;

  createEnrolment(e: { expiresAt: string; uses: number; createdBy: string }): Promise<{
    secret: string;
    record: EnrolmentRecord;
  }>;
  /** Every enrolment (never its secret), newest first. */
  listEnrolments(): Promise<EnrolmentRecord[]>;
  /** Deletes an enrolment: its secret no longer enrols. False when no enrolment has this id. */
  deleteEnrolment(id: string): Promise<boolean>;
  /** Trades a valid enrolment secret for a new agent token bound to the host; undefined when invalid, expired or used up. */
  enrol(
    secret: string,
    host: {
      name: string;
      os?: string;
      kernel?: string;
      addresses?: string[];
      agentVersion?: string;
      cpus?: number;
    },
  ): Promise<{ token: string; host: HostRecord } | undefined>;

  /** Creates or refreshes a host (heartbeat); returns it. */
  touchHost(h: {
    id?: string;
    name: string;
    os?: string;
    kernel?: string;
    addresses?: string[];
    agentVersion?: string;
    cpus?: number;
    wattsPerCore?: number;
    agent?: boolean;
    at: string;
  }): Promise<HostRecord>;
  getHost(id: string): Promise<HostRecord | undefined>;
  listHosts(q: HostQuery): Promise<Page<HostRecord>>;
  /** Hosts by the status their last_seen gives them now. */
  countHosts(): Promise<HostCounts>;
  /**
   * Up to `n` of the newest host-level CPU samples (subject `host`, as
   * sent) of each host, oldest first.
   */
  recentHostCpu(hostIds: readonly string[], n: number): Promise<Map<string, number[]>>;

  /**
   * Stores a batch atomically: all or nothing. A repeated idempotency key
   * writes nothing and says so. Known fingerprints raise count and last_seen.
   */
  ingestFindings(
    batch: readonly Finding[],
    opts: { idempotencyKey?: string; actor: string; at: string },
  ): Promise<IngestResult>;
  listFindings(q: FindingQuery): Promise<Page<StoredFinding>>;
  getFinding(fingerprint: string): Promise<StoredFinding | undefined>;
  acknowledge(fingerprints: readonly string[], by: string, at: string): Promise<number>;

  /** Unacknowledged findings by severity, from counters kept at every write (no scan). */
  openFindings(): Promise<SeverityCounts>;
  /** The same per host name; every name given is in the map (zeros when it has none). */
  openFindingsByHost(hostNames: readonly string[]): Promise<Map<string, SeverityCounts>>;
  /** Findings ingested per hour and severity, for the hours starting in [from, to). */
  listSightings(q: { from: string; to: string }): Promise<SightingCount[]>;
  /** Unacknowledged findings of at least `minSeverity` last seen at or after `since`, newest first. */
  activeFindings(q: { since: string; minSeverity: Severity; limit: number }): Promise<FindingSummary[]>;
  /**
   * Every rule id the findings carry (or the one asked for, when it has
   * findings), with its count of findings (of those last seen at or after
   * `since` when given: rules with none then are left out), newest
   * last_seen, and the name and techniques of its newest finding.
   */
  ruleActivity(q: { since?: string; ruleId?: string }): Promise<RuleActivity[]>;

  addMetrics(samples: readonly MetricSample[]): Promise<void>;
  /**
   * The newest `limit` points of the range, oldest first, each from the
   * finest resolution kept for its time (raw, else 5-minute, else 1-hour
   * buckets), marked with `resolutionS`.
   */
  listMetrics(q: {
    hostId: string;
    subject?: string;
    from?: string;
    to?: string;
    limit?: number;
  }): Promise<MetricSample[]>;

  /** The stored fleet configuration; undefined until one is set (the server's default applies then). */
  getAgentConfig(): Promise<StoredAgentSettings | undefined>;
  /** Replaces the fleet configuration as a whole. */
  setAgentConfig(config: AgentSettings, actor: string): Promise<StoredAgentSettings>;

  /** The host whose name (the one host identity) this is. */
  getHostByName(name: string): Promise<HostRecord | undefined>;

  /** A new isolation; STORE_ISOLATION_ACTIVE when the host has one that is not released. */
  createIsolation(i: NewIsolation): Promise<IsolationRecord>;
  getIsolation(id: string): Promise<IsolationRecord | undefined>;
  /** The host's isolation that is not released, else its newest one. */
  currentIsolation(hostId: string): Promise<IsolationRecord | undefined>;
  listIsolations(q: IsolationQuery): Promise<Page<IsolationRecord>>;
  /**
   * Changes an isolation when its state is one of `from` (all when absent):
   * a compare-and-set, so two servers (or a timer and a request) cannot both
   * move it. Undefined when it is not there or not in one of those states.
   */
  updateIsolation(
    id: string,
    patch: IsolationPatch,
    from?: readonly IsolationStateName[],
  ): Promise<IsolationRecord | undefined>;
  /** Appends to the isolation's action log and, in the same transaction, to the audit log. */
  addIsolationAction(a: Omit<IsolationAction, 'seq'> & { hostId: string }): Promise<void>;
  /** The isolation's action log, oldest first (at most the newest `limit`, default 500). */
  listIsolationActions(isolationId: string, limit?: number): Promise<IsolationAction[]>;

  audit(e: AuditEntry): Promise<void>;
  listAudit(q: { limit?: number; cursor?: string }): Promise<Page<AuditEntry>>;

  /**
   * Deletes findings (by last_seen), metrics (raw and buckets, by time) and
   * audit entries older than the given times; then folds raw samples older
   * than `rawMetrics` into 5-minute buckets and 5-minute buckets older than
   * `fiveMinuteMetrics` into 1-hour buckets (each cut is rounded down to
   * its bucket length, so no bucket is ever split). Each step is one
   * transaction; running it again changes nothing. Returns what it did.
   */
  prune(before: {
    findings?: string;
    metrics?: string;
    audit?: string;
    rawMetrics?: string;
    fiveMinuteMetrics?: string;
  }): Promise<PruneResult>;
  /** Bytes the data takes (the SQLite files; the PostgreSQL database size). */
  sizeBytes(): Promise<number>;

  /** Incidents, their timelines, indicators and campaigns (./incidents.ts). */
  readonly incidents: IncidentStore;
  /** Work handed to agents (forensics, eradication), their evidence and its custody. */
  readonly tasks: TaskStore;
  /**
   * Called after every ingest that wrote (not a replayed key), once its
   * transaction has committed, with the batch: the incident workflow reads
   * mining findings from here, off the ingest's own transaction. A listener
   * must not throw or block (queue the work). Returns the unsubscriber.
   */
  onIngested(listener: (batch: readonly Finding[]) => void): () => void;
  /**
   * Resolves when no ingest is written or waiting, or after `maxWaitMs`:
   * background writers (the incident engine) go between ingest groups, so
   * that a sensor's batch never waits behind them for long.
   */
  ingestIdle(maxWaitMs: number): Promise<void>;
}

/** How long a host may be silent before it is stale / offline. */
export interface HostGaps {
  staleMs: number;
  offlineMs: number;
}

export const DEFAULT_HOST_GAPS: HostGaps = { staleMs: 60_000, offlineMs: 10 * 60_000 };
