import type { ParseIssue } from '../core/errors.ts';
import { csvCell } from '../outputs/csv.ts';
import { TextTable } from '../outputs/text-table.ts';
import type { MetricName, MetricsResult, MetricTable } from './metrics.ts';
import { endpoint } from './search.ts';
import { safeJson } from './search-format.ts';

export const METRICS_FORMATS = ['table', 'json', 'csv'] as const;
export type MetricsFormat = (typeof METRICS_FORMATS)[number];

const TITLES: Record<MetricName, string> = {
  eid: 'Events by event ID',
  computer: 'Events by computer',
  channel: 'Events by channel',
  provider: 'Events by provider',
  conversation: 'Conversations (client → server:port)',
};

/** The key columns of each table, in order, as the row keys name them. */
const KEY_COLUMNS: Record<MetricName, readonly string[]> = {
  eid: ['event_id', 'channel'],
  computer: ['computer'],
  channel: ['channel'],
  provider: ['provider'],
  conversation: ['source', 'destination', 'port', 'transport'],
};

const shown = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : String(v);

/** Notes under a table: rows cut by --top, events of keys past the cap. */
function notes(t: MetricTable): string[] {
  const out: string[] = [];
  if (t.omitted) out.push(`… ${t.omitted} more row(s) not shown (--top).`);
  if (t.overflow)
    out.push(
      `… ${t.overflow.events} event(s) of further keys not tabulated: the table keeps ${t.overflow.max_keys} distinct keys.`,
    );
  return out;
}

/** The tables for a person; every cell is escaped by TextTable. */
export function renderMetricsTable(result: MetricsResult, color: boolean): string {
  const parts: string[] = [];
  for (const t of result.tables) {
    const conv = t.name === 'conversation';
    const head = conv
      ? ['client', 'server', 'transport', 'flows', 'events', '%', 'first seen', 'last seen']
      : [
          ...(t.name === 'eid' ? ['event id', 'channel'] : [t.name]),
          'events',
          '%',
          'first seen',
          'last seen',
        ];
    const table = new TextTable({ head, color });
    for (const r of t.rows) {
      const k = r.key;
      const common = [String(r.events), r.percent.toFixed(2), shown(r.first_seen), shown(r.last_seen)];
      if (conv)
        table.push([
          shown(k['source']),
          endpoint(String(k['destination'] ?? ''), typeof k['port'] === 'number' ? k['port'] : undefined),
          shown(k['transport']),
          String(r.flows ?? 0),
          ...common,
        ]);
      else table.push([...KEY_COLUMNS[t.name].map((c) => shown(k[c])), ...common]);
    }
    const unit = conv ? 'network observation(s)' : 'event-log record(s)';
    parts.push(
      `${TITLES[t.name]}: ${t.total} ${unit}, ${t.distinct} distinct\n${t.rows.length ? `${table.toString()}\n` : ''}${notes(
        t,
      )
        .map((n) => `${n}\n`)
        .join('')}`,
    );
  }
  return parts.join('\n');
}

export function renderMetricsJson(result: MetricsResult, issues: readonly ParseIssue[]): string {
  const metrics: Record<string, Omit<MetricTable, 'name'>> = {};
  for (const { name, ...rest } of result.tables) metrics[name] = rest;
  return `${safeJson({ metrics, issues, stats: result.stats }, 2)}\n`;
}

const CSV_HEAD = [
  'metric',
  'event_id',
  'channel',
  'computer',
  'provider',
  'source',
  'destination',
  'port',
  'transport',
  'events',
  'percent',
  'flows',
  'first_seen',
  'last_seen',
] as const;

/** One CSV of every table: a `metric` column, then the union of the key columns (empty where they do not apply). */
export function renderMetricsCsv(result: MetricsResult): string {
  const lines = [CSV_HEAD.join(',')];
  const cell = (v: string | number | null | undefined): string =>
    v === null || v === undefined ? '' : csvCell(String(v));
  for (const t of result.tables) {
    for (const r of t.rows) {
      const values: Record<string, string | number | null | undefined> = {
        ...r.key,
        metric: t.name,
        events: r.events,
        percent: r.percent.toFixed(2),
        flows: r.flows,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
      };
      lines.push(CSV_HEAD.map((c) => cell(values[c])).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** What a person should know beside the CSV (on stderr): cut rows and overflowing tables. */
export function metricsNotes(result: MetricsResult): string {
  return result.tables.flatMap((t) => notes(t).map((n) => `${t.name}: ${n}\n`)).join('');
}
