import { sep } from 'node:path';
import type { EcsEndpoint, EcsEvent, EcsProcess } from '../../core/event.ts';
import { rawHostOf } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { canonicalHostName } from '../../core/host-identity.ts';
import { PACKAGE_ROOT } from '../../core/paths.ts';
import { fromSigmaLevel } from '../../core/severity.ts';
import { basename } from '../../core/text.ts';
import { COMMUNITY_ATTRIBUTION, isCommunityRule } from './community.ts';
import type { FieldView } from './field-view.ts';
import type { SigmaRule } from './rule.ts';
import { techniquesOf } from './rule.ts';
import { isWinlogEvent } from './winlog-event.ts';

const MAX_EVIDENCE_VALUE = 2000;
/** Rule files shipped with deminer are named relative to the package, so findings carry no install path. */
const ROOT_PREFIX = `${PACKAGE_ROOT}${sep}`;

/**
 * The first of these fields the event has a value for. Field names are the
 * view's lower-cased ones: event-log names (Sysmon, Security) for records,
 * dotted ECS paths for ECS documents. Windows writes `-` for "none".
 */
function firstOf(view: FieldView, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = view.get(k);
    if (v !== undefined && v !== '' && v !== '-') return v;
  }
  return undefined;
}

function pidOf(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function portOf(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

/** Sysmon's `Hashes` (`SHA1=…,MD5=…,SHA256=…,IMPHASH=…`), or ECS `process.hash.sha256`. */
function sha256Of(view: FieldView): string | undefined {
  const ecs = firstOf(view, 'process.hash.sha256');
  if (ecs) return ecs.toLowerCase();
  const m = /(?:^|,)\s*SHA256=([0-9a-f]{64})\b/i.exec(view.get('hashes') ?? '');
  return m?.[1]?.toLowerCase();
}

/**
 * The process an event is about, in ECS names: from Sysmon and Security-log
 * records (Image, CommandLine, NewProcessName…) or from ECS documents
 * (Elastic Endpoint, Winlogbeat-normalised, Auditbeat: `process.*`, `user.name`).
 */
export function processOf(view: FieldView): EcsProcess | undefined {
  const security4688 = view.get('eventid') === '4688';
  const p: EcsProcess = {};
  const pid = pidOf(security4688 ? view.get('newprocessid') : firstOf(view, 'processid', 'process.pid'));
  if (pid !== undefined) p.pid = pid;
  const ppid = pidOf(
    security4688
      ? view.get('processid')
      : firstOf(view, 'parentprocessid', 'process.parent.pid', 'process.ppid'),
  );
  if (ppid !== undefined) p.ppid = ppid;
  const exe = firstOf(view, 'image', 'newprocessname', 'processname', 'process.executable');
  if (exe) p.executable = exe;
  const name = firstOf(view, 'process.name') ?? (exe ? basename(exe) : undefined);
  if (name) p.name = name;
  const cmd = firstOf(view, 'commandline', 'process.command_line');
  if (cmd) p.command_line = cmd;
  const cwd = firstOf(view, 'currentdirectory', 'process.working_directory');
  if (cwd) p.working_directory = cwd;
  const sha256 = sha256Of(view);
  if (sha256) p.hash = { sha256 };
  const parentExe = firstOf(view, 'parentimage', 'parentprocessname', 'process.parent.executable');
  const parentCmd = firstOf(view, 'parentcommandline', 'process.parent.command_line');
  const parentName = firstOf(view, 'process.parent.name') ?? (parentExe ? basename(parentExe) : undefined);
  const parentPid = pidOf(firstOf(view, 'process.parent.pid'));
  if (parentExe || parentCmd || parentName || parentPid !== undefined) {
    p.parent = {};
    if (parentPid !== undefined) p.parent.pid = parentPid;
    if (parentName) p.parent.name = parentName;
    if (parentExe) p.parent.executable = parentExe;
    if (parentCmd) p.parent.command_line = parentCmd;
  }
  const user = firstOf(view, 'user', 'subjectusername', 'user.name', 'process.user.name');
  if (user) p.user = { name: user };
  return Object.keys(p).length > 0 ? p : undefined;
}

function endpointOf(view: FieldView, side: 'destination' | 'source'): EcsEndpoint | undefined {
  const d: EcsEndpoint = {};
  const ip = firstOf(view, `${side}ip`, `${side}.ip`);
  const port = portOf(firstOf(view, `${side}port`, `${side}.port`));
  const domain = firstOf(view, `${side}hostname`, `${side}.domain`);
  if (ip) d.ip = ip;
  if (port !== undefined) d.port = port;
  if (domain) d.domain = domain;
  return Object.keys(d).length > 0 ? d : undefined;
}

function trimmed(data: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!data) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === '#attributes') continue;
    out[k] =
      typeof v === 'string' && v.length > MAX_EVIDENCE_VALUE ? `${v.slice(0, MAX_EVIDENCE_VALUE)}…` : v;
  }
  return out;
}

/** Where the record is, so that a person can open it. */
export function recordIdentity(e: EcsEvent): {
  channel?: string;
  recordId?: string | number;
  eventId?: string;
} {
  if (!isWinlogEvent(e)) return {};
  const out: { channel?: string; recordId?: string | number; eventId?: string } = {};
  if (e.winlog.channel) out.channel = e.winlog.channel;
  if (e.winlog.record_id !== undefined) out.recordId = e.winlog.record_id;
  if (e.winlog.event_id !== undefined) out.eventId = String(e.winlog.event_id);
  return out;
}

/** The host identity of an event (core/host-identity.ts): the same for this record and the host's other findings. */
export function hostOf(e: EcsEvent): string {
  return canonicalHostName(rawHostOf(e) ?? '');
}

export function sigmaRuleEvidence(rule: SigmaRule): Record<string, unknown> {
  const file = rule.file.startsWith(ROOT_PREFIX) ? rule.file.slice(ROOT_PREFIX.length) : rule.file;
  const s: Record<string, unknown> = { id: rule.id, title: rule.title, file };
  if (rule.level) s['level'] = rule.level;
  if (rule.status) s['status'] = rule.status;
  if (rule.author) s['author'] = rule.author;
  if (rule.tags.length) s['tags'] = rule.tags;
  if (rule.falsepositives.length) s['falsepositives'] = rule.falsepositives;
  if (rule.references.length) s['references'] = rule.references;
  // The Detection Rule License asks for attribution wherever a community rule's work is shown.
  if (isCommunityRule(rule)) Object.assign(s, COMMUNITY_ATTRIBUTION);
  return s;
}

/** The finding of DESIGN.md §4 for one Sigma rule firing on one record. */
export function findingFor(rule: SigmaRule, event: EcsEvent, view: FieldView): Finding {
  const hostname = rawHostOf(event);
  const host = canonicalHostName(hostname ?? '');
  const fromEventLog = isWinlogEvent(event);
  const record = recordIdentity(event);
  const code = record.eventId ?? (fromEventLog ? undefined : firstOf(view, 'event.code'));
  const process = processOf(view);
  const destination = endpointOf(view, 'destination');
  const source = endpointOf(view, 'source');
  const query = firstOf(view, 'queryname', 'dns.question.name');
  const what =
    process?.command_line ??
    process?.executable ??
    (query ? `DNS query ${query}` : undefined) ??
    view.get('targetobject') ??
    view.get('targetfilename') ??
    view.get('servicename') ??
    view.get('taskname') ??
    view.get('relativetargetname') ??
    view.get('imageloaded') ??
    (fromEventLog ? undefined : firstOf(view, 'registry.path', 'file.path'));
  const where = [
    record.channel ?? (fromEventLog ? undefined : firstOf(view, 'event.dataset', 'event.provider')),
    code && `event ${code}`,
    record.recordId !== undefined && `record ${record.recordId}`,
  ]
    .filter(Boolean)
    .join(', ');
  const message = `${rule.title} on ${host}${what ? `: ${what.length > 200 ? `${what.slice(0, 200)}…` : what}` : ''} (${where || 'event'}).`;
  // DRL 1.1: messages based on a community rule's matches name the rule's author.
  const credit = isCommunityRule(rule)
    ? ` Sigma rule by ${rule.author ?? 'SigmaHQ contributors'} (SigmaHQ, DRL 1.1).`
    : '';
  const evidence: Record<string, unknown> = { sigma: sigmaRuleEvidence(rule) };
  if (rule.triage) evidence['next_step'] = rule.triage;
  if (isWinlogEvent(event)) {
    const data = trimmed(event.winlog.event_data) ?? trimmed(event.winlog.user_data);
    if (data) evidence['event_data'] = data;
  }
  if (event.log?.file?.path) {
    const src: Record<string, unknown> = { path: event.log.file.path };
    if (event.log.offset !== undefined) src['offset'] = event.log.offset;
    if (event.log.line !== undefined) src['line'] = event.log.line;
    evidence['source'] = src;
  }
  // A record is named by its log position; an ECS document by its event id, else its process and time.
  const subject = fromEventLog
    ? [record.channel ?? '', String(record.recordId ?? ''), record.eventId ?? '', event['@timestamp'] ?? '']
    : [
        'ecs',
        firstOf(view, 'event.id') ?? '',
        firstOf(view, 'process.entity_id') ?? String(process?.pid ?? ''),
        event['@timestamp'] ?? '',
      ];
  return makeFinding({
    rule: { id: rule.id, name: rule.title, ruleset: 'sigma' },
    severity: fromSigmaLevel(rule.level),
    techniques: techniquesOf(rule.tags),
    host,
    hostname,
    subject,
    message: `${message}${credit}`,
    ...(event['@timestamp'] ? { timestamp: event['@timestamp'] } : {}),
    ...(process ? { process } : {}),
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    ...(code ? { event: { code } } : {}),
    ...(record.channel || record.recordId !== undefined
      ? {
          winlog: {
            ...(record.channel ? { channel: record.channel } : {}),
            ...(record.recordId !== undefined ? { record_id: record.recordId } : {}),
          },
        }
      : {}),
    ...(query ? { dns: { question: { name: query } } } : {}),
    evidence,
  });
}
