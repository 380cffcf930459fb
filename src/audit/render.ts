import type { ParseIssue } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { csvCell } from '../outputs/csv.ts';
import { escapeControls } from '../outputs/safe-text.ts';
import { colours, paint, TextTable } from '../outputs/text-table.ts';
import { describeObserved, SHOWN_ITEMS } from './report.ts';
import type { HostReport } from './run.ts';
import type { CheckResult } from './types.ts';

export const AUDIT_FORMATS = ['table', 'json', 'jsonl', 'csv'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** The jsonl line of docs/audit.md: exactly these keys, in this order. */
export function resultLine(r: CheckResult): string {
  return JSON.stringify({
    check: { id: r.check.id, title: r.check.title },
    status: r.status,
    observed: r.observed,
    expected: r.expected,
    fix: r.fix,
    host: r.host,
    source: r.source,
  });
}

export function renderJsonl(hosts: readonly HostReport[]): string {
  return hosts.flatMap((h) => h.results.map((r) => `${resultLine(r)}\n`)).join('');
}

export function renderJson(
  hosts: readonly HostReport[],
  findings: readonly Finding[],
  problems: readonly ParseIssue[],
): string {
  const doc = {
    hosts: hosts.map((h) => ({
      host: h.host,
      platform: h.platform,
      origin: h.origin,
      score: h.score.score,
      counts: h.score.counts,
      inputs: h.inputs,
      results: h.results.map((r) => ({
        ...JSON.parse(resultLine(r)),
        severity: r.severity,
        techniques: r.techniques,
        ...(r.note ? { note: r.note } : {}),
      })),
    })),
    findings,
    problems,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const CSV_HEAD = [
  'host',
  'check_id',
  'title',
  'status',
  'severity',
  'observed',
  'expected',
  'fix',
  'source',
  'note',
];

export function renderCsv(hosts: readonly HostReport[]): string {
  const rows = [CSV_HEAD.join(',')];
  for (const h of hosts)
    for (const r of h.results)
      rows.push(
        [
          h.host,
          r.check.id,
          r.check.title,
          r.status,
          r.severity,
          describeObserved(r.observed),
          r.expected,
          r.fix,
          r.source,
          r.note ?? '',
        ]
          .map(csvCell)
          .join(','),
      );
  return `${rows.join('\n')}\n`;
}

const STATUS_STYLE: Readonly<Record<CheckResult['status'], (s: string) => string>> = {
  pass: colours.green,
  fail: colours.red,
  unknown: colours.yellow,
  not_applicable: colours.dim,
};

/** Score line of a host, for a person. */
export function scoreLine(h: HostReport): string {
  const c = h.score.counts;
  const score = h.score.score === null ? 'no score (nothing decided)' : `score ${h.score.score}/100`;
  return `${escapeControls(h.host)} (${h.platform}, ${escapeControls(h.origin)}): ${score}: ${c.pass} pass, ${c.fail} fail, ${c.unknown} unknown, ${c.not_applicable} not applicable`;
}

export function renderTable(hosts: readonly HostReport[], opts: { color: boolean; width: number }): string {
  const out: string[] = [];
  const w = Math.max(80, opts.width);
  const cols = [
    10,
    10,
    Math.floor((w - 26) * 0.4),
    Math.floor((w - 26) * 0.3),
    Math.floor((w - 26) * 0.3) - 4,
  ];
  for (const h of hosts) {
    out.push(scoreLine(h));
    const t = new TextTable({
      head: ['status', 'severity', 'check', 'observed', 'expected'],
      color: opts.color,
      colWidths: cols,
      wordWrap: true,
    });
    for (const r of h.results) {
      const observed = describeObserved(r.observed, SHOWN_ITEMS) + (r.note ? ` (${r.note})` : '');
      t.push([
        paint(r.status === 'not_applicable' ? 'n/a' : r.status, STATUS_STYLE[r.status]),
        r.severity,
        [r.check.id, r.check.title],
        observed,
        r.expected,
      ]);
    }
    if (t.length > 0) out.push(t.toString());
    const fails = h.results.filter((r) => r.status === 'fail');
    for (const r of fails)
      out.push(
        `  fix ${escapeControls(r.check.id)}: ${escapeControls(r.fix)}${r.source ? ` [${escapeControls(r.source)}]` : ''}`,
      );
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
