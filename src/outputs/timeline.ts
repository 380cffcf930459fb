import type { Finding } from '../core/finding.ts';
import { compareFindings } from '../core/finding.ts';
import type { Severity } from '../core/severity.ts';
import { escapeControls } from './safe-text.ts';
import type { FindingSink, SinkOptions } from './sink.ts';
import { colours, paint, TextTable } from './text-table.ts';

const SEV_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => colours.bold(colours.red(s)),
  high: colours.red,
  medium: colours.yellow,
  low: colours.dim,
};

/** Below this many columns the file goes into the details cell instead of a column of its own. */
const FILE_COLUMN_MIN_WIDTH = 140;
/** From this many columns the timestamp fits on one line. */
const ONE_LINE_TIME_MIN_WIDTH = 120;

function eventTime(f: Finding): number {
  return Date.parse(f['@timestamp']);
}

/**
 * Event time first (as a time, not as text: `…:00Z` and `…:00.500Z` are
 * ordered by what they mean), then the usual finding order.
 */
export function compareByTime(a: Finding, b: Finding): number {
  const ta = eventTime(a);
  const tb = eventTime(b);
  // A time that does not parse goes last, ordered by its text.
  if (Number.isNaN(ta) || Number.isNaN(tb)) {
    if (!Number.isNaN(ta)) return -1;
    if (!Number.isNaN(tb)) return 1;
    return a['@timestamp'].localeCompare(b['@timestamp']) || compareFindings(a, b);
  }
  return ta - tb || compareFindings(a, b);
}

/** Findings oldest first, without touching the caller's array. */
export function sortByTime(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareByTime);
}

function endpoint(e: NonNullable<Finding['destination']>): string | undefined {
  const host = e.domain ?? e.ip;
  if (host === undefined) return e.port !== undefined ? `port ${e.port}` : undefined;
  return e.port !== undefined ? `${host}:${e.port}` : host;
}

/**
 * The lines of the details cell: the event-log record (event code, channel,
 * record id), the process (name, pid, command line or executable) and the
 * traffic (source → destination, DNS and TLS names), those that apply, in
 * that order. Raw text: the table escapes it.
 */
export function timelineDetails(f: Finding): string[] {
  const lines: string[] = [];
  const record: string[] = [];
  if (f.event?.code !== undefined) record.push(`event ${f.event.code}`);
  if (f.winlog?.channel !== undefined) record.push(f.winlog.channel);
  if (f.winlog?.record_id !== undefined) record.push(`record ${f.winlog.record_id}`);
  if (record.length > 0) lines.push(record.join(' · '));

  const p = f.process;
  if (p) {
    const who = [p.name, p.pid !== undefined ? `pid ${p.pid}` : undefined].filter((s) => s !== undefined);
    const what = p.command_line ?? p.executable;
    const line = [who.join(' '), what].filter((s) => s !== undefined && s !== '').join(': ');
    if (line) lines.push(line);
  }

  const from = f.source ? endpoint(f.source) : undefined;
  const to = f.destination ? endpoint(f.destination) : undefined;
  if (from !== undefined || to !== undefined) lines.push(`${from ?? '?'} → ${to ?? '?'}`);
  if (f.dns?.question.name !== undefined && f.dns.question.name !== f.destination?.domain)
    lines.push(`dns ${f.dns.question.name}`);
  if (f.tls?.server_name !== undefined && f.tls.server_name !== f.destination?.domain)
    lines.push(`tls ${f.tls.server_name}`);
  return lines;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function position(v: unknown): string {
  return typeof v === 'number' || (typeof v === 'string' && v !== '') ? `:${v}` : '';
}

/**
 * The file the evidence names, as `path[:line|:offset]`: the log a record
 * came from (`evidence.source.path`), the capture or persistence file
 * (`evidence.file`), a path the detector saw (`evidence.path`) or a miner
 * config (`evidence.config`). Undefined when it names none.
 */
export function evidenceFile(f: Finding): string | undefined {
  const e = f.evidence;
  const source = e['source'];
  if (isRecord(source) && typeof source['path'] === 'string' && source['path'] !== '')
    return `${source['path']}${position(source['line'] ?? source['offset'])}`;
  for (const key of ['file', 'path', 'config']) {
    const v = e[key];
    if (typeof v === 'string' && v !== '') return `${v}${key === 'file' ? position(e['line']) : ''}`;
  }
  return undefined;
}

export interface TimelineOptions {
  color?: boolean;
  /** Terminal columns; at least 80 are assumed. */
  width?: number;
}

/** Where a long line may break, keeping the character at the end of the line (paths, names, addresses). */
const BREAK_AFTER = new Set(['/', '\\', '.', ',', ';', ':', '-', '_', '=', '&', '?', '|', ')']);

/**
 * `line` in pieces of at most `max` code points: at the last space (dropped),
 * else after the last separator, that leaves a piece of at least a third of
 * `max`; else cut.
 */
export function wrapLine(line: string, max: number): string[] {
  const out: string[] = [];
  let rest = Array.from(line);
  while (rest.length > max) {
    const floor = Math.ceil(max / 3);
    let cut = -1;
    let skip = 0;
    for (let i = max; i >= floor && cut < 0; i--) {
      if (rest[i] === ' ') {
        cut = i;
        skip = 1;
      }
    }
    for (let i = max - 1; i >= floor && cut < 0; i--) if (BREAK_AFTER.has(rest[i]!)) cut = i + 1;
    if (cut < 0) cut = max;
    out.push(rest.slice(0, cut).join(''));
    rest = rest.slice(cut + skip);
  }
  out.push(rest.join(''));
  return out;
}

function visibleLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Widths (content plus one space of padding either side) for the flexible
 * columns within `available`: a column that needs less than its share (by
 * weight) gets what it needs, the others share the rest.
 */
function shareWidths(
  natural: readonly number[],
  weights: readonly number[],
  available: number,
  min: number,
): number[] {
  const widths = natural.map(() => min);
  // Those that need least of their share first, so what they leave goes to the others.
  const order = natural
    .map((_, i) => i)
    .sort((a, b) => natural[a]! / weights[a]! - natural[b]! / weights[b]!);
  let left = available;
  let weightLeft = weights.reduce((a, b) => a + b, 0);
  for (const col of order) {
    const share = Math.floor((left * weights[col]!) / weightLeft);
    widths[col] = Math.max(min, Math.min(natural[col]!, share));
    left -= widths[col]!;
    weightLeft -= weights[col]!;
  }
  return widths;
}

const TIME_ONE_LINE = 26;
const TIME_TWO_LINES = 15;
const SEVERITY_WIDTH = 10;
const MIN_COLUMN = 10;

/**
 * Findings as a timeline for a person (the view of hayabusa's csv-timeline or
 * chainsaw): oldest first, one row per finding, every attacker-written field
 * escaped, the whole table within `width` columns.
 */
export function renderTimeline(findings: readonly Finding[], opts: TimelineOptions = {}): string {
  if (findings.length === 0) return 'No findings.\n';
  const width = Math.max(80, Math.floor(opts.width ?? 120));
  const sorted = sortByTime(findings);
  const files = sorted.map(evidenceFile);
  const fileColumn = width >= FILE_COLUMN_MIN_WIDTH && files.some((f) => f !== undefined);
  const oneLineTime = width >= ONE_LINE_TIME_MIN_WIDTH;
  const head = ['Timestamp', 'Severity', 'Computer', 'Rule', 'Details', ...(fileColumn ? ['File'] : [])];

  // The flexible cells (host, rule, details[, file]) as escaped lines, so
  // that widths are measured on what is shown; escaping again is a no-op.
  const flexible = sorted.map((f, i) => {
    const details = timelineDetails(f);
    const file = files[i];
    if (!fileColumn && file !== undefined) details.push(`file ${file}`);
    const cells = [[f.host.name], [f.rule.name], details.length > 0 ? details : ['']];
    if (fileColumn) cells.push([file ?? '']);
    return cells.map((lines) => lines.map(escapeControls));
  });
  const natural = head
    .slice(2)
    .map((h, c) => Math.max(h.length, ...flexible.map((row) => Math.max(...row[c]!.map(visibleLength)))) + 2);
  const timeWidth = oneLineTime ? TIME_ONE_LINE : TIME_TWO_LINES;
  const available = width - (head.length + 1) - timeWidth - SEVERITY_WIDTH;
  const widths = shareWidths(natural, fileColumn ? [1, 1, 2, 1] : [1, 1, 2], available, MIN_COLUMN);

  const table = new TextTable({
    head,
    color: opts.color ?? false,
    colWidths: [timeWidth, SEVERITY_WIDTH, ...widths],
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  sorted.forEach((f, i) => {
    const ts = f['@timestamp'];
    const t = ts.indexOf('T');
    const time = oneLineTime || t < 0 ? [ts] : [ts.slice(0, t), ts.slice(t + 1)];
    table.push([
      time,
      paint(f.severity, SEV_COLOUR[f.severity]),
      ...flexible[i]!.map((lines, c) => lines.flatMap((l) => wrapLine(l, widths[c]! - 2))),
    ]);
  });
  return `${table.toString()}\n`;
}

/** The timeline is printed at the end, once every finding is known and can be put in time order. */
export function timelineSink(options: SinkOptions): FindingSink {
  return {
    format: 'timeline',
    machine: false,
    write() {},
    end(run) {
      options.out.write(renderTimeline(run.findings, { color: options.color, width: options.width }));
    },
  };
}
