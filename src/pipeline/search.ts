import type { ParseIssue } from '../core/errors.ts';
import type { EcsEvent } from '../core/event.ts';
import { rawHostOf } from '../core/event.ts';
import type { NetEvent } from '../core/net-event.ts';
import type { Source } from '../core/stages.ts';
import type { InputPassStats } from './search-inputs.ts';
import { readAllInputs } from './search-inputs.ts';
import type { Match, Matcher } from './search-matcher.ts';

interface HitBase {
  /** The input file the record comes from. */
  file: string;
  /** Where in it: `file:offset` (EVTX), `file:line` (JSON, Zeek, Suricata) or `file#frame` (captures). */
  location: string;
  /** ISO-8601 UTC, when the record has a time. */
  time?: string;
  /** The field that matched, as a dotted path (`winlog.event_data.CommandLine`, `dns.questions[0].name`). */
  field: string;
  /** That field's whole value, and where the pattern matched inside it. */
  value: string;
  match: Match;
}

/** One record whose fields contain what was searched for: an event-log record or a network observation. */
export type SearchHit =
  | (HitBase & { type: 'log'; event: EcsEvent })
  | (HitBase & { type: 'network'; event: NetEvent });

export interface SearchOptions {
  paths: readonly string[];
  matcher: Matcher;
  from?: number;
  to?: number;
  /** Stop after this many hits. */
  limit?: number;
  sources?: readonly Source[];
  signal?: AbortSignal;
  /** Each hit as it is found; nothing is kept here. */
  onHit(hit: SearchHit): void;
  onIssue(issue: ParseIssue): void;
  /** Awaited between records when it returns a promise (the output is behind). */
  pause?(): Promise<void> | undefined;
  /** True when the output is gone (a closed pipe): the search ends at once. */
  closed?(): boolean;
}

export interface SearchStats extends InputPassStats {
  hits: number;
  /** The search ended at --limit before reading everything. */
  limited: boolean;
}

/**
 * The fields of a network observation that say what was seen on the wire,
 * application content first (the field a hit names is the first that
 * matches); the rest (kind, time, file, frame) is our own bookkeeping.
 */
const NET_FIELDS = [
  'dns',
  'tls',
  'mining',
  'http',
  'alert',
  'dhcp',
  'p2p',
  'src',
  'dst',
  'transport',
] as const;
/** `log` of an event-log record says where we read it, not what it says. */
const LOG_SKIP: ReadonlySet<string> = new Set(['log']);
/** Deeper structure than any event log has; hostile JSON documents are not walked past it. */
const MAX_DEPTH = 32;

/**
 * `deminer search`: every event-log record and network observation of the
 * inputs (read as `hunt` reads them) whose fields contain one of the texts or
 * match one of the regular expressions, handed out as found. One hit per
 * record: the first field that matches.
 */
export async function search(opts: SearchOptions): Promise<SearchStats> {
  let hits = 0;
  let limited = false;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const found = (): void => {
    hits++;
    if (hits >= limit) limited = true;
  };
  const pass = await readAllInputs(
    {
      paths: opts.paths,
      window: {
        ...(opts.from !== undefined ? { from: opts.from } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
      },
      ...(opts.sources ? { sources: opts.sources } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    {
      event(e, file) {
        if (limited) return;
        const m = findField(e, '', opts.matcher, LOG_SKIP, 0);
        if (!m) return;
        const hit: SearchHit = { type: 'log', event: e, file, location: logLocation(e, file), ...m };
        if (e['@timestamp']) hit.time = e['@timestamp'];
        found();
        opts.onHit(hit);
      },
      net(e, file) {
        if (limited) return;
        const m = findNetField(e, opts.matcher);
        if (!m) return;
        const hit: SearchHit = { type: 'network', event: e, file, location: netLocation(e, file), ...m };
        const time = netTime(e);
        if (time) hit.time = time;
        found();
        opts.onHit(hit);
      },
      issue: opts.onIssue,
      ...(opts.pause ? { pause: opts.pause } : {}),
      stopped: () => limited || opts.closed?.() === true,
    },
  );
  return { ...pass, hits, limited };
}

interface FieldMatch {
  field: string;
  value: string;
  match: Match;
}

/** The first string, number or boolean under `v` (depth first, in field order) that the matcher finds something in. */
function findField(
  v: unknown,
  path: string,
  matcher: Matcher,
  skip: ReadonlySet<string> | undefined,
  depth: number,
): FieldMatch | undefined {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
    const value = typeof v === 'string' ? v : String(v);
    const match = matcher.find(value);
    return match ? { field: path, value, match } : undefined;
  }
  if (typeof v !== 'object' || v === null || depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const m = findField(v[i], `${path}[${i}]`, matcher, undefined, depth + 1);
      if (m) return m;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    if (skip?.has(k)) continue;
    const m = findField(x, path ? `${path}.${k}` : k, matcher, undefined, depth + 1);
    if (m) return m;
  }
  return undefined;
}

function findNetField(e: NetEvent, matcher: Matcher): FieldMatch | undefined {
  for (const k of NET_FIELDS) {
    const v = e[k];
    if (v === undefined) continue;
    const m = findField(v, k, matcher, undefined, 1);
    if (m) return m;
  }
  return undefined;
}

export function logLocation(e: EcsEvent, file: string): string {
  const at = e.log?.offset ?? e.log?.line;
  return at === undefined ? file : `${file}:${at}`;
}

export function netLocation(e: NetEvent, file: string): string {
  if (e.line !== undefined) return `${e.file || file}:${e.line}`;
  if (e.frame !== undefined) return `${e.file || file}#${e.frame}`;
  return e.file || file;
}

/** A network observation's time as ISO-8601, when it has one (0 is "none" for the log readers). */
export function netTime(e: NetEvent): string | undefined {
  if (!Number.isFinite(e.tsMs) || e.tsMs <= 0) return undefined;
  const d = new Date(e.tsMs);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** What the table shows of a hit: host, channel or kind of observation, event id. */
export function hitColumns(hit: SearchHit): { host: string; channel: string; eventId: string } {
  if (hit.type === 'log') {
    const e = hit.event;
    return {
      host: rawHostOf(e) ?? '',
      channel: e.winlog?.channel ?? e.event?.dataset ?? e.event?.provider ?? '',
      eventId: String(e.winlog?.event_id ?? e.event?.code ?? ''),
    };
  }
  const e = hit.event;
  const src = e.src ? endpoint(e.src.ip, e.src.port) : '';
  const dst = e.dst ? endpoint(e.dst.ip, e.dst.port) : '';
  return { host: src && dst ? `${src} → ${dst}` : src || dst, channel: e.kind, eventId: '' };
}

export function endpoint(ip: string, port: number | undefined): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}
