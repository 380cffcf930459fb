import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EcsEndpointSchema, EcsProcessSchema } from './event.ts';
import type { Severity } from './severity.ts';
import { SEVERITIES, severityRank } from './severity.ts';

/**
 * The finding contract of DESIGN.md §4, as the server checks ingested
 * findings: closed objects, so a misspelt field is an error that names it
 * rather than data silently dropped. Fields that do not apply are omitted.
 * `evidence` is free-form per rule. Built on first use (see event.ts); the
 * server extends it through `FindingSchema.unwrap().extend(…)`.
 */
export const FindingSchema = z.lazy(() =>
  z.strictObject({
    id: z.uuid(),
    '@timestamp': z.iso.datetime(),
    /** Same rule on the same subject of the same host, same fingerprint (de-duplication key). */
    fingerprint: z.string().regex(/^[0-9a-f]{16,64}$/),
    rule: z.strictObject({
      id: z.string().min(1),
      name: z.string().min(1),
      ruleset: z.enum(['builtin', 'sigma']),
    }),
    severity: z.enum(SEVERITIES),
    threat: z.strictObject({ technique: z.array(z.string().regex(/^T\d{4}(?:\.\d{3})?$/)) }),
    host: z.strictObject({
      /** The one host identity (core/host-identity.ts). */
      name: z.string().min(1),
      /** The host's name as the input wrote it, when it differs from `name` (e.g. a record's FQDN). */
      hostname: z.string().optional(),
    }),
    process: EcsProcessSchema.optional(),
    source: EcsEndpointSchema.optional(),
    destination: EcsEndpointSchema.optional(),
    event: z.strictObject({ code: z.string().optional() }).optional(),
    winlog: z
      .strictObject({
        channel: z.string().optional(),
        record_id: z.union([z.number(), z.string()]).optional(),
      })
      .optional(),
    dns: z.strictObject({ question: z.strictObject({ name: z.string() }) }).optional(),
    tls: z.strictObject({ server_name: z.string() }).optional(),
    message: z.string().min(1),
    evidence: z.record(z.string(), z.unknown()),
  }),
);
export type Finding = z.infer<typeof FindingSchema>;

export interface FindingInput {
  rule: Finding['rule'];
  severity: Severity;
  techniques: string[];
  /** The canonical host identity (`canonicalHostName`, `hostOfAddress`). */
  host: string;
  /** The host name as the input wrote it; kept as `host.hostname` when it differs from `host`. */
  hostname?: string | undefined;
  /**
   * What the rule fired on, beyond host and rule: e.g. the executable path or
   * hash, the pool endpoint, the domain. Same subject, same fingerprint.
   */
  subject: string[];
  message: string;
  timestamp?: string;
  process?: Finding['process'];
  source?: Finding['source'];
  destination?: Finding['destination'];
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
  const host: Finding['host'] = { name: input.host };
  if (input.hostname && input.hostname !== input.host) host.hostname = input.hostname;
  const f: Finding = {
    id: randomUUID(),
    '@timestamp': input.timestamp ?? new Date().toISOString(),
    fingerprint: fingerprint(input.host, input.rule.id, input.subject),
    rule: { ...input.rule },
    severity: input.severity,
    threat: { technique: [...new Set(input.techniques)].sort() },
    host,
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
