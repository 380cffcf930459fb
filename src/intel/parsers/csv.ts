import type { ParseOptions, ParseResult } from './sink.ts';
import { eachLine, ParseSink, parseTime } from './sink.ts';

/** Which column holds what: 1-based numbers, or header names when the file has a header row. */
export interface CsvSpec {
  delimiter?: string;
  header?: boolean;
  value: number | string;
  confidence?: number | string;
  firstSeen?: number | string;
  lastSeen?: number | string;
}

/** Splits one CSV record (RFC 4180 quoting, doubled quotes inside quotes). */
export function splitCsv(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          field += line.slice(i);
          i = line.length;
          break;
        }
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      const d = line.indexOf(delimiter, i);
      i = d < 0 ? line.length + 1 : d + delimiter.length;
    } else {
      const d = line.indexOf(delimiter, i);
      field = d < 0 ? line.slice(i) : line.slice(i, d);
      i = d < 0 ? line.length + 1 : d + delimiter.length;
    }
    out.push(field.trim());
    if (i > line.length) return out;
  }
}

/** CSV feeds (abuse.ch exports and the like): lines starting with `#` are comments. */
export function parseCsv(text: string, options: ParseOptions, spec: CsvSpec): ParseResult {
  const sink = new ParseSink(options);
  const delimiter = spec.delimiter ?? ',';
  let columns: { value: number; confidence: number; firstSeen: number; lastSeen: number } | undefined;
  const byNumber = (c: number | string | undefined): number => (typeof c === 'number' ? c - 1 : -1);
  if (!spec.header) {
    if (typeof spec.value !== 'number') {
      sink.issue('INTEL_CSV_SPEC', 'column names need `header: true`; give 1-based column numbers', 1);
      return sink.result;
    }
    columns = {
      value: byNumber(spec.value),
      confidence: byNumber(spec.confidence),
      firstSeen: byNumber(spec.firstSeen),
      lastSeen: byNumber(spec.lastSeen),
    };
  }
  let failed = false;
  eachLine(text, (raw, n) => {
    if (failed) return;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return sink.ignore();
    const fields = splitCsv(line, delimiter);
    if (!columns) {
      const names = fields.map((f) => f.toLowerCase());
      const find = (c: number | string | undefined): number =>
        c === undefined ? -1 : typeof c === 'number' ? c - 1 : names.indexOf(c.toLowerCase());
      columns = {
        value: find(spec.value),
        confidence: find(spec.confidence),
        firstSeen: find(spec.firstSeen),
        lastSeen: find(spec.lastSeen),
      };
      if (columns.value < 0) {
        sink.issue('INTEL_CSV_SPEC', `no column "${spec.value}" in header ${fields.join(delimiter)}`, n);
        failed = true;
      }
      return;
    }
    const value = fields[columns.value];
    if (value === undefined || value === '') {
      sink.issue('INTEL_CSV_SHORT_ROW', `row has ${fields.length} field(s), no value column`, n);
      return;
    }
    const extra: { confidence?: number; firstSeen?: number; lastSeen?: number } = {};
    const conf = Number(fields[columns.confidence]);
    if (columns.confidence >= 0 && fields[columns.confidence] !== '' && Number.isFinite(conf))
      extra.confidence = conf;
    const fs = parseTime(fields[columns.firstSeen]);
    if (fs) extra.firstSeen = fs;
    const ls = parseTime(fields[columns.lastSeen]);
    if (ls) extra.lastSeen = ls;
    sink.value(value, n, extra);
  });
  return sink.result;
}
