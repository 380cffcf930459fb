import { createHash, randomUUID } from 'node:crypto';
import type { EcsEndpoint, EcsProcess } from './event.ts';
import type { Severity } from './severity.ts';
import { severityRank } from './severity.ts';

/** The finding contract of DESIGN.md §4. Fields that do not apply are omitted. */
export interface Finding {
  id: string;
  '@timestamp': string;
  fingerprint: string;
  rule: { id: string; name: string; ruleset: 'builtin' | 'sigma' };
  severity: Severity;
  threat: { technique: string[] };
  host: { name: string };
  process?: EcsProcess;
  source?: EcsEndpoint;
  destination?: EcsEndpoint;
  event?: { code?: string };
  winlog?: { channel?: string; record_id?: number | string };
  dns?: { question: { name: string } };
  tls?: { server_name: string };
  message: string;
  evidence: Record<string, unknown>;
}

export interface FindingInput {
  rule: Finding['rule'];
  severity: Severity;
  techniques: string[];
  host: string;
  /**
   * What the rule fired on, beyond host and rule: e.g. the executable path or
   * hash, the pool endpoint, the domain. Same subject, same fingerprint.
   */
  subject: string[];
  message: string;
  timestamp?: string;
  process?: EcsProcess;
  source?: EcsEndpoint;
  destination?: EcsEndpoint;
  event?: Finding['event'];
  winlog?: Finding['winlog'];
  dns?: Finding['dns'];
  tls?: Finding['tls'];
  evidence?: Record<string, unknown>;
}

export function fingerprint(host: string, ruleId: string, subject: readonly string[]): string {
  const h = createHash('sha256');
  h.update(host);
  h.update('\0');
  h.update(ruleId);
  for (const s of subject) {
    h.update('\0');
    h.update(s);
  }
  return h.digest('hex').slice(0, 32);
}

/** Builds a finding; `timestamp` defaults to now (callers that replay data pass the event time). */
export function makeFinding(input: FindingInput): Finding {
  const f: Finding = {
    id: randomUUID(),
    '@timestamp': input.timestamp ?? new Date().toISOString(),
    fingerprint: fingerprint(input.host, input.rule.id, input.subject),
    rule: { ...input.rule },
    severity: input.severity,
    threat: { technique: [...new Set(input.techniques)].sort() },
    host: { name: input.host },
    message: input.message,
    evidence: input.evidence ? { ...input.evidence } : {},
  };
  if (input.process) f.process = input.process;
  if (input.source) f.source = input.source;
  if (input.destination) f.destination = input.destination;
  if (input.event) f.event = input.event;
  if (input.winlog) f.winlog = input.winlog;
  if (input.dns) f.dns = input.dns;
  if (input.tls) f.tls = input.tls;
  return f;
}

/** Most severe first, then by time, then rule id: a stable order for output. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a['@timestamp'].localeCompare(b['@timestamp']) ||
    a.rule.id.localeCompare(b.rule.id) ||
    a.fingerprint.localeCompare(b.fingerprint)
  );
}

/** Keeps the first finding of each fingerprint, merging nothing else. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    if (seen.has(f.fingerprint)) continue;
    seen.add(f.fingerprint);
    out.push(f);
  }
  return out;
}
