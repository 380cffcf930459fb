import type { z } from 'zod';
import type {
  AuditEntry,
  EnrolmentRecord,
  HostGaps,
  HostRecord,
  HostStatus,
  MetricSample,
  SeverityCounts,
  StoredAgentSettings,
  StoredFinding,
  TokenRecord,
} from '../store/types.ts';
import type {
  AgentConfig,
  AgentConfigResponse,
  EnrolmentSchema,
  HostListItemSchema,
  HostSchema,
  MetricSampleSchema,
  SeverityCountsSchema,
  StoredFindingSchema,
  TokenSchema,
} from './schemas.ts';

/**
 * Store records → the API's JSON (snake_case, DESIGN.md §4). Optional
 * fields that do not apply are left out; host facts are null when unknown
 * so that a host always has the same keys.
 */

export type ApiFinding = z.output<typeof StoredFindingSchema>;
export type ApiHost = z.output<typeof HostSchema>;

export function apiFinding(s: StoredFinding): ApiFinding {
  const out: ApiFinding = {
    ...s.finding,
    first_seen: s.firstSeen,
    last_seen: s.lastSeen,
    count: s.count,
    acknowledged: s.acknowledged,
  };
  if (s.acknowledgedBy !== undefined) out.acknowledged_by = s.acknowledgedBy;
  if (s.acknowledgedAt !== undefined) out.acknowledged_at = s.acknowledgedAt;
  return out;
}

/** The status by the server's own gaps, so that every reader of a host agrees on it. */
export function hostStatus(lastSeen: string, gaps: HostGaps, now = Date.now()): HostStatus {
  const silent = now - Date.parse(lastSeen);
  if (!(silent < gaps.offlineMs)) return 'offline';
  return silent < gaps.staleMs ? 'reporting' : 'stale';
}

export function apiHost(h: HostRecord, gaps: HostGaps, now = Date.now()): ApiHost {
  return {
    id: h.id,
    name: h.name,
    status: hostStatus(h.lastSeen, gaps, now),
    first_seen: h.firstSeen,
    last_seen: h.lastSeen,
    os: h.os ?? null,
    kernel: h.kernel ?? null,
    addresses: [...h.addresses],
    agent_version: h.agentVersion ?? null,
    cpus: h.cpus ?? null,
    watts_per_core: h.wattsPerCore ?? null,
    agent: h.agent,
  };
}

export function apiToken(t: TokenRecord): z.output<typeof TokenSchema> {
  const out: z.output<typeof TokenSchema> = { id: t.id, role: t.role, name: t.name, created_at: t.createdAt };
  if (t.hostId !== undefined) out.host_id = t.hostId;
  if (t.lastUsedAt !== undefined) out.last_used_at = t.lastUsedAt;
  if (t.revokedAt !== undefined) out.revoked_at = t.revokedAt;
  return out;
}

export function apiMetric(m: MetricSample): z.output<typeof MetricSampleSchema> {
  const out: z.output<typeof MetricSampleSchema> = {
    subject: m.subject,
    at: m.at,
    resolution_s: m.resolutionS ?? 0,
  };
  if (m.cpu !== undefined) out.cpu = m.cpu;
  if (m.memoryBytes !== undefined) out.memory_bytes = m.memoryBytes;
  if (m.connectionsPerMinute !== undefined) out.connections_per_minute = m.connectionsPerMinute;
  if (m.samples !== undefined) out.samples = m.samples;
  if (m.cpuMax !== undefined) out.cpu_max = m.cpuMax;
  if (m.memoryBytesMax !== undefined) out.memory_bytes_max = m.memoryBytesMax;
  if (m.connectionsPerMinuteMax !== undefined) out.connections_per_minute_max = m.connectionsPerMinuteMax;
  return out;
}

/** The stored fleet configuration, or the server's default when none is stored. */
export function apiAgentConfig(
  stored: StoredAgentSettings | undefined,
  fallback: AgentConfig,
): z.output<typeof AgentConfigResponse> {
  if (!stored) return { config: { ...fallback }, updated_at: null, updated_by: null };
  const c = stored.config;
  const config: AgentConfig = { interval_s: c.intervalS };
  if (c.allowlist !== undefined) config.allowlist = c.allowlist;
  if (c.neverAlert !== undefined) config.never_alert = [...c.neverAlert];
  return { config, updated_at: stored.updatedAt, updated_by: stored.updatedBy };
}

export function apiAudit(e: AuditEntry): AuditEntry {
  return { ...e };
}

/** Severity counts as the API writes them: every severity, `info` (no finding has it today) included. */
export function apiCounts(c: SeverityCounts): z.output<typeof SeverityCountsSchema> {
  return { critical: c.critical, high: c.high, medium: c.medium, low: c.low, info: 0 };
}

/** A host as the list shows it: with its open findings and recent CPU (for a sparkline). */
export function apiHostItem(
  h: HostRecord,
  gaps: HostGaps,
  open: SeverityCounts | undefined,
  cpu: readonly number[] | undefined,
  now = Date.now(),
): z.output<typeof HostListItemSchema> {
  return {
    ...apiHost(h, gaps, now),
    open_findings: apiCounts(open ?? { low: 0, medium: 0, high: 0, critical: 0 }),
    cpu_recent: [...(cpu ?? [])],
  };
}

export function apiEnrolment(e: EnrolmentRecord, now = Date.now()): z.output<typeof EnrolmentSchema> {
  return {
    id: e.id,
    created_at: e.createdAt,
    expires_at: e.expiresAt,
    uses_left: e.usesLeft,
    created_by: e.createdBy,
    expired: !(Date.parse(e.expiresAt) > now),
  };
}
