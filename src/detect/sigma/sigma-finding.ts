import { sep } from 'node:path';
import type { EcsEndpoint, EcsEvent, EcsProcess } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { PACKAGE_ROOT } from '../../core/paths.ts';
import { fromSigmaLevel } from '../../core/severity.ts';
import type { FieldView } from './field-view.ts';
import type { SigmaRule } from './rule.ts';
import { techniquesOf } from './rule.ts';
import { isWinlogEvent } from './winlog-event.ts';

const MAX_EVIDENCE_VALUE = 2000;
/** Rule files shipped with deminer are named relative to the package, so findings carry no install path. */
const ROOT_PREFIX = `${PACKAGE_ROOT}${sep}`;

function basename(p: string): string {
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i >= 0 ? p.slice(i + 1) : p;
}

function pidOf(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Process fields of Sysmon and Security-log records, in ECS names. */
export function processOf(view: FieldView): EcsProcess | undefined {
  const security4688 = view.get('eventid') === '4688';
  const exe = view.get('image') ?? view.get('newprocessname') ?? view.get('processname');
  const p: EcsProcess = {};
  const pid = pidOf(security4688 ? view.get('newprocessid') : view.get('processid'));
  if (pid !== undefined) p.pid = pid;
  const ppid = pidOf(security4688 ? view.get('processid') : view.get('parentprocessid'));
  if (ppid !== undefined) p.ppid = ppid;
  if (exe) {
    p.executable = exe;
    p.name = basename(exe);
  }
  const cmd = view.get('commandline');
  if (cmd) p.command_line = cmd;
  const parentExe = view.get('parentimage') ?? view.get('parentprocessname');
  const parentCmd = view.get('parentcommandline');
  if (parentExe || parentCmd) {
    p.parent = {};
    if (parentExe) {
      p.parent.executable = parentExe;
      p.parent.name = basename(parentExe);
    }
    if (parentCmd) p.parent.command_line = parentCmd;
  }
  const user = view.get('user') ?? view.get('subjectusername');
  if (user) p.user = { name: user };
  return Object.keys(p).length > 0 ? p : undefined;
}

function destinationOf(view: FieldView): EcsEndpoint | undefined {
  const d: EcsEndpoint = {};
  const ip = view.get('destinationip');
  const port = Number(view.get('destinationport'));
  const domain = view.get('destinationhostname');
  if (ip) d.ip = ip;
  if (Number.isInteger(port) && port > 0) d.port = port;
  if (domain && domain !== '-') d.domain = domain;
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

export function hostOf(e: EcsEvent, view?: FieldView): string {
  return view?.get('computer') ?? e.host?.name ?? e.host?.hostname ?? 'unknown';
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
  return s;
}

/** The finding of DESIGN.md §4 for one Sigma rule firing on one record. */
export function findingFor(rule: SigmaRule, event: EcsEvent, view: FieldView): Finding {
  const host = hostOf(event, view);
  const id = recordIdentity(event);
  const process = processOf(view);
  const destination = destinationOf(view);
  const query = view.get('queryname');
  const what =
    process?.command_line ??
    process?.executable ??
    (query ? `DNS query ${query}` : undefined) ??
    view.get('targetobject') ??
    view.get('targetfilename') ??
    view.get('servicename') ??
    view.get('taskname') ??
    view.get('relativetargetname') ??
    view.get('imageloaded');
  const where = [
    id.channel,
    id.eventId && `event ${id.eventId}`,
    id.recordId !== undefined && `record ${id.recordId}`,
  ]
    .filter(Boolean)
    .join(', ');
  const message = `${rule.title} on ${host}${what ? `: ${what.length > 200 ? `${what.slice(0, 200)}…` : what}` : ''} (${where || 'event'}).`;
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
  const f = makeFinding({
    rule: { id: rule.id, name: rule.title, ruleset: 'sigma' },
    severity: fromSigmaLevel(rule.level),
    techniques: techniquesOf(rule.tags),
    host,
    subject: [id.channel ?? '', String(id.recordId ?? ''), id.eventId ?? '', event['@timestamp'] ?? ''],
    message,
    ...(event['@timestamp'] ? { timestamp: event['@timestamp'] } : {}),
    ...(process ? { process } : {}),
    ...(destination ? { destination } : {}),
    ...(id.eventId ? { event: { code: id.eventId } } : {}),
    ...(id.channel || id.recordId !== undefined
      ? {
          winlog: {
            ...(id.channel ? { channel: id.channel } : {}),
            ...(id.recordId !== undefined ? { record_id: id.recordId } : {}),
          },
        }
      : {}),
    ...(query ? { dns: { question: { name: query } } } : {}),
    evidence,
  });
  return f;
}
