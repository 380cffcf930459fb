import type { Finding } from '../core/finding.ts';
import { escapeControls } from './safe-text.ts';
import type { FindingSink, SinkOptions } from './sink.ts';
import { subjectOf, userOf } from './table.ts';
import { evidenceFile } from './timeline.ts';

const CSV_COLUMNS = [
  'timestamp',
  'severity',
  'rule_id',
  'rule_name',
  'host',
  'subject',
  'message',
  'fingerprint',
  // Added later, at the end so that scripts reading columns by position keep working.
  'user',
  'file',
  'techniques',
  'next_step',
] as const;

/**
 * First characters that make a spreadsheet read a cell as a formula
 * (OWASP "CSV Injection"), with their fullwidth forms, which cost nothing to
 * cover; tab and CR are on OWASP's list too.
 */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']);

/** Leading characters a spreadsheet may drop before it looks for a formula. */
function isLeadingBlank(c: number): boolean {
  return c <= 0x20 || c === 0x7f || c === 0xa0 || c === 0x3000 || c === 0xfeff;
}

/** Whether a spreadsheet could take `value` for a formula, looking past leading blanks. */
function looksLikeFormula(value: string): boolean {
  if (FORMULA_START.has(value.charAt(0))) return true;
  let i = 0;
  while (i < value.length && isLeadingBlank(value.charCodeAt(i))) i++;
  return FORMULA_START.has(value.charAt(i));
}

/**
 * One CSV field: control characters escaped visibly (so a record is always
 * one line), a formula neutralised with a leading single quote, and quoted
 * when it holds a quote or a separator (`;` too, the separator of many locales).
 */
export function csvCell(value: string): string {
  const text = (looksLikeFormula(value) ? "'" : '') + escapeControls(value);
  let quote = false;
  for (let i = 0; i < text.length && !quote; i++) {
    const c = text.charCodeAt(i);
    quote = c === 0x22 || c === 0x2c || c === 0x3b;
  }
  return quote ? `"${text.replaceAll('"', '""')}"` : text;
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
        userOf(f) ?? '',
        evidenceFile(f) ?? '',
        f.threat.technique.join(' '),
        typeof f.evidence['next_step'] === 'string' ? f.evidence['next_step'] : '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A header and one row per finding, at the end. */
export function csvSink(options: SinkOptions): FindingSink {
  return {
    format: 'csv',
    machine: true,
    write() {},
    end(run) {
      options.out.write(renderCsv(run.findings));
    },
  };
}
