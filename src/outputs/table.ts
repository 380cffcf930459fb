import type { Finding } from '../core/finding.ts';
import { compareFindings } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import type { FindingSink, SinkOptions } from './sink.ts';
import { colours, paint, TextTable } from './text-table.ts';
import { evidenceFile, timelineDetails } from './timeline.ts';

const SEV_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => colours.bold(colours.red(s)),
  high: colours.red,
  medium: colours.yellow,
  low: colours.dim,
};

/**
 * Who or what the finding is about, in a few words. Raw text: the renderers
 * escape it for their format.
 */
export function subjectOf(f: Finding): string {
  const parts: string[] = [];
  if (f.process?.pid !== undefined) parts.push(`pid ${f.process.pid} ${f.process.name ?? ''}`.trim());
  else if (f.process?.executable) parts.push(f.process.executable);
  else if (f.process?.name) parts.push(f.process.name);
  if (f.destination?.domain || f.destination?.ip) {
    const host = f.destination.domain ?? f.destination.ip;
    parts.push(`→ ${host}${f.destination.port !== undefined ? `:${f.destination.port}` : ''}`);
  } else if (f.dns?.question.name) parts.push(`dns ${f.dns.question.name}`);
  else if (f.tls?.server_name) parts.push(`tls ${f.tls.server_name}`);
  if (f.event?.code)
    parts.push(`event ${f.event.code}${f.winlog?.record_id !== undefined ? ` #${f.winlog.record_id}` : ''}`);
  return parts.join(' ') || f.host.name;
}

/** The user a finding names: the process's owner, else the account of the event-log record. Raw text. */
export function userOf(f: Finding): string | undefined {
  const u = f.process?.user;
  if (u?.name) return u.name;
  if (u?.id !== undefined) return `uid ${u.id}`;
  let data = f.evidence['event_data'];
  // UserData records wrap their fields in one element named after the event (LogFileCleared, …).
  if (isObject(data)) {
    const values = Object.values(data);
    if (values.length === 1 && isObject(values[0]) && !('User' in data) && !('SubjectUserName' in data))
      data = values[0];
  }
  if (isObject(data)) {
    const d = data;
    for (const k of ['User', 'SubjectUserName', 'TargetUserName', 'AccountName']) {
      const v = d[k];
      if (typeof v === 'string' && v !== '' && v !== '-') {
        const domain = k === 'SubjectUserName' ? d['SubjectDomainName'] : undefined;
        return typeof domain === 'string' && domain !== '' && domain !== '-' ? `${domain}\\${v}` : v;
      }
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Longest command line shown in a table cell; the json formats carry it whole. */
const MAX_SHOWN_COMMAND = 300;

/**
 * The "Where" cell: the computer (and the source address of network
 * findings when the host is named), the event time, the record or process
 * or traffic, the user and the file, those that apply. Raw text.
 */
export function whereLines(f: Finding): string[] {
  const lines: string[] = [];
  const src = f.source?.ip;
  lines.push(src && src !== f.host.name ? `${f.host.name} (${src})` : f.host.name);
  lines.push(f['@timestamp'].replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z'));
  for (const l of timelineDetails(f)) {
    const arrow = f.source && l.includes(' → ');
    lines.push(arrow && f.destination ? `→ ${endpointOf(f.destination)}` : cut(l, MAX_SHOWN_COMMAND));
  }
  if (f.process?.executable && f.process.command_line) lines.push(`exe ${f.process.executable}`);
  const user = userOf(f);
  if (user) lines.push(`user ${user}`);
  const file = evidenceFile(f);
  if (file) lines.push(`file ${file}`);
  return lines;
}

function endpointOf(d: NonNullable<Finding['destination']>): string {
  const host = d.domain ?? d.ip ?? '?';
  return d.port !== undefined ? `${host}:${d.port}` : host;
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export interface TableOptions {
  color?: boolean;
  /** Terminal columns; at least 80 are assumed. */
  width?: number;
}

/** Findings as a table for a person, most severe first; every field an attacker may have written is escaped. */
export function renderTable(findings: readonly Finding[], opts: TableOptions = {}): string {
  if (findings.length === 0) return 'No findings.\n';
  const width = Math.max(80, opts.width ?? 120);
  const table = new TextTable({
    head: ['Severity', 'What', 'Where (host, time, what, user, file)', 'Why / next step'],
    color: opts.color ?? false,
    colWidths: [
      10,
      Math.floor(width * 0.2),
      Math.floor(width * 0.3),
      width - 10 - Math.floor(width * 0.2) - Math.floor(width * 0.3) - 5,
    ],
    wordWrap: true,
  });
  for (const f of [...findings].sort(compareFindings)) {
    const next = f.evidence['next_step'];
    table.push([
      paint(f.severity, SEV_COLOUR[f.severity]),
      [f.rule.name, f.rule.id],
      whereLines(f),
      typeof next === 'string' ? [f.message, `→ ${next}`] : [f.message],
    ]);
  }
  return `${table.toString()}\n`;
}

/** The table is printed at the end, sorted, once every finding is known. */
export function tableSink(options: SinkOptions): FindingSink {
  return {
    format: 'table',
    machine: false,
    write() {},
    end(run) {
      if (run.findings.length === 0 && run.issues.length > 0) {
        // Not a clean verdict: part of the input could not be read (the problems are printed on stderr).
        options.out.write(
          `No findings in what could be read; ${run.issues.length} input problem(s) reported.\n`,
        );
        return;
      }
      options.out.write(renderTable(run.findings, { color: options.color, width: options.width }));
    },
  };
}
