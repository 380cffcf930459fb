import type { ParseIssue } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import { rawHostOf } from '../core/event.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { Source } from '../core/stages.ts';
import type { InputPassStats } from './search-inputs.ts';
import { readAllInputs } from './search-inputs.ts';

export const METRICS = ['eid', 'computer', 'channel', 'provider', 'conversation'] as const;
export type MetricName = (typeof METRICS)[number];
export const LOG_METRICS: readonly MetricName[] = ['eid', 'computer', 'channel', 'provider'];

/** Distinct keys each table keeps by default; events of further keys are counted as overflow. */
export const DEFAULT_MAX_KEYS = 10_000;

/** One row of a metric: its key fields, how many events, when first and last seen. */
export interface MetricRow {
  /** The key as named fields (`event_id` and `channel`; `computer`; `source`, `destination`, `port`, `transport`…). */
  key: Record<string, string | number | null>;
  events: number;
  /** Percentage of the table's events (two decimals). */
  percent: number;
  /** New flows (connections) among the events: conversations only. */
  flows?: number;
  /** ISO-8601 UTC, when the events have times. */
  first_seen: string | null;
  last_seen: string | null;
}

export interface MetricTable {
  name: MetricName;
  /** Events counted by this table (rows and overflow). */
  total: number;
  /** Distinct keys kept (the rows before --top). */
  distinct: number;
  /** Rows, most events first (at most --top of them). */
  rows: MetricRow[];
  /** Rows left out by --top. */
  omitted: number;
  /** Events whose key came after the table was full: counted, not tabulated. */
  overflow: { events: number; max_keys: number } | null;
}

export interface MetricsOptions {
  paths: readonly string[];
  /** The tables wanted; default: the event-log tables when there were event-log records, conversations when there were network observations. */
  by?: readonly MetricName[];
  /** Rows shown per table (all by default). */
  top?: number;
  maxKeys?: number;
  sources?: readonly Source[];
  signal?: AbortSignal;
  onIssue(issue: ParseIssue): void;
}

export interface MetricsResult {
  tables: MetricTable[];
  stats: InputPassStats & { logEvents: number; netEvents: number };
}

interface Cell {
  key: Record<string, string | number | null>;
  events: number;
  flows: number;
  /** Event-log times are ISO strings of one layout (compared as text); network times are ms. */
  first: string | number | undefined;
  last: string | number | undefined;
}

/** A count per key that keeps at most `max` keys, and counts the events of the others. */
class BoundedCounter {
  private readonly cells = new Map<string, Cell>();
  total = 0;
  overflow = 0;

  constructor(
    readonly name: MetricName,
    private readonly max: number,
  ) {}

  add(
    id: string,
    key: () => Record<string, string | number | null>,
    time: string | number | undefined,
    flow: boolean,
  ): void {
    this.total++;
    let c = this.cells.get(id);
    if (!c) {
      if (this.cells.size >= this.max) {
        this.overflow++;
        return;
      }
      c = { key: key(), events: 0, flows: 0, first: undefined, last: undefined };
      this.cells.set(id, c);
    }
    c.events++;
    if (flow) c.flows++;
    if (time !== undefined) {
      if (c.first === undefined || time < c.first) c.first = time;
      if (c.last === undefined || time > c.last) c.last = time;
    }
  }

  table(top: number | undefined): MetricTable {
    const all = [...this.cells.values()].sort((a, b) => b.events - a.events || compareKeys(a.key, b.key));
    const shown = top === undefined ? all : all.slice(0, top);
    const rows = shown.map((c): MetricRow => {
      const row: MetricRow = {
        key: c.key,
        events: c.events,
        percent: this.total ? Math.round((c.events / this.total) * 10_000) / 100 : 0,
        first_seen: timeText(c.first),
        last_seen: timeText(c.last),
      };
      if (this.name === 'conversation') row.flows = c.flows;
      return row;
    });
    return {
      name: this.name,
      total: this.total,
      distinct: this.cells.size,
      rows,
      omitted: all.length - shown.length,
      overflow: this.overflow ? { events: this.overflow, max_keys: this.max } : null,
    };
  }
}

function compareKeys(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function timeText(t: string | number | undefined): string | null {
  if (t === undefined) return null;
  if (typeof t === 'string') return t;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

const str = (v: unknown): string | null =>
  typeof v === 'string' ? v || null : typeof v === 'number' ? String(v) : null;

/**
 * `deminer metrics`: counts over the inputs, as hayabusa's eid-metrics and
 * computer-metrics give them for event logs (events per event id and
 * channel, per computer, per channel, per provider), and conversations for
 * captures and network logs (client → server:port, flows and observations,
 * first and last seen). Every table keeps a bounded number of keys.
 */
export async function metrics(opts: MetricsOptions): Promise<MetricsResult> {
  const max = Math.max(1, opts.maxKeys ?? DEFAULT_MAX_KEYS);
  const counters = new Map<MetricName, BoundedCounter>(METRICS.map((m) => [m, new BoundedCounter(m, max)]));
  const eid = counters.get('eid')!;
  const computer = counters.get('computer')!;
  const channel = counters.get('channel')!;
  const provider = counters.get('provider')!;
  const conversation = counters.get('conversation')!;
  let logEvents = 0;
  let netEvents = 0;
  const wants = (m: MetricName): boolean => opts.by === undefined || opts.by.includes(m);
  const wantEid = wants('eid');
  const wantComputer = wants('computer');
  const wantChannel = wants('channel');
  const wantProvider = wants('provider');
  const wantConversation = wants('conversation');

  const onLog = (e: EcsEvent): void => {
    logEvents++;
    const time = e['@timestamp'] || undefined;
    const ch = str(e.winlog?.channel) ?? str(e.event?.dataset);
    if (wantEid) {
      const id = str(e.winlog?.event_id) ?? str(e.event?.code);
      eid.add(`${ch ?? ''}\u0000${id ?? ''}`, () => ({ event_id: id, channel: ch }), time, false);
    }
    if (wantComputer) {
      const c = rawHostOf(e) ?? null;
      computer.add(c ?? '', () => ({ computer: c }), time, false);
    }
    if (wantChannel) channel.add(ch ?? '', () => ({ channel: ch }), time, false);
    if (wantProvider) {
      const p = str(e.winlog?.provider_name) ?? str(e.event?.provider);
      provider.add(p ?? '', () => ({ provider: p }), time, false);
    }
  };
  const onNet = (e: NetEvent): void => {
    netEvents++;
    if (!wantConversation || !e.src || !e.dst) return;
    const src = e.src.ip;
    const dst = e.dst.ip;
    const port = e.dst.port ?? null;
    const transport = e.transport ?? null;
    const time = Number.isFinite(e.tsMs) && e.tsMs > 0 ? e.tsMs : undefined;
    conversation.add(
      `${transport ?? ''}\u0000${src}\u0000${dst}\u0000${port ?? ''}`,
      () => ({ source: src, destination: dst, port, transport }),
      time,
      e.kind === 'flow',
    );
  };

  const pass = await readAllInputs(
    {
      paths: opts.paths,
      ...(opts.sources ? { sources: opts.sources } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    { event: onLog, net: onNet, issue: opts.onIssue },
  );

  let names: readonly MetricName[];
  if (opts.by) names = opts.by;
  else {
    const chosen: MetricName[] = [];
    if (logEvents > 0 || netEvents === 0) chosen.push(...LOG_METRICS);
    if (netEvents > 0) chosen.push('conversation');
    names = chosen;
  }
  return {
    tables: names.map((n) => counters.get(n)!.table(opts.top)),
    stats: { ...pass, logEvents, netEvents },
  };
}
