import Table from 'cli-table3';
import pc from 'picocolors';
import type { Finding } from '../core/finding.ts';
import { compareFindings } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import { atLeast } from '../core/severity.ts';
import { EXIT } from './command.ts';

export const FINDING_FORMATS = ['table', 'json', 'jsonl', 'csv'] as const;
export type FindingFormat = (typeof FINDING_FORMATS)[number];

/** Exit code per DESIGN.md §4: 1 when any finding is at or above the reporting level. */
export function exitCodeFor(findings: readonly Finding[], minLevel: Severity): number {
  return findings.some((f) => atLeast(f.severity, minLevel)) ? EXIT.FINDINGS : EXIT.OK;
}

const SEV_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => pc.bold(pc.red(s)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.dim,
};

/** Who or what the finding is about, in a few words. */
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

export function renderTable(
  findings: readonly Finding[],
  opts: { color?: boolean; width?: number } = {},
): string {
  if (findings.length === 0) return 'No findings.\n';
  const color = opts.color ?? false;
  const width = Math.max(80, opts.width ?? 120);
  const table = new Table({
    head: ['Severity', 'What', 'Where', 'Why / next step'],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
    colWidths: [10, Math.floor(width * 0.22), Math.floor(width * 0.22), Math.floor(width * 0.5) - 10],
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  for (const f of [...findings].sort(compareFindings)) {
    const sev = color ? SEV_COLOUR[f.severity](f.severity) : f.severity;
    const next = typeof f.evidence['next_step'] === 'string' ? `\n→ ${f.evidence['next_step']}` : '';
    table.push([sev, `${f.rule.name}\n${f.rule.id}`, subjectOf(f), `${f.message}${next}`]);
  }
  return `${table.toString()}\n`;
}

const CSV_COLUMNS = [
  'timestamp',
  'severity',
  'rule_id',
  'rule_name',
  'host',
  'subject',
  'message',
  'fingerprint',
] as const;

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function renderCsv(findings: readonly Finding[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const f of findings) {
    lines.push(
      [
        f['@timestamp'],
        f.severity,
        f.rule.id,
        f.rule.name,
        f.host.name,
        subjectOf(f),
        f.message,
        f.fingerprint,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function renderJsonl(findings: readonly Finding[]): string {
  return findings.map((f) => `${JSON.stringify(f)}\n`).join('');
}
