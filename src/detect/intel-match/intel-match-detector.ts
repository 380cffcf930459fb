import type { EcsEndpoint, EcsEvent, EcsProcess } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import type { Detector } from '../../core/plugin.ts';
import type { IntelEngine } from '../intel/index.ts';
import type { PoolHit } from './pool-check.ts';
import { hitEvidence, PoolCheck } from './pool-check.ts';

export interface IntelMatchOptions {
  intel?: IntelEngine | undefined;
  /** Built-in pool domains checked after the engine (data/network/pool-domains.json). */
  floor?: ReadonlySet<string> | undefined;
}

const RULES = {
  dns: {
    id: 'deminer.intel.pool_dns',
    name: 'DNS query for a listed mining pool',
    ruleset: 'builtin',
  },
  connection: {
    id: 'deminer.intel.pool_connection',
    name: 'Connection to a listed mining pool',
    ruleset: 'builtin',
  },
} as const;

/** Security 5156 "Direction" as the record stores it (%%14592 inbound) or as renderers print it. */
const INBOUND = new Set(['%%14592', 'inbound']);
const MAX_EVIDENCE_VALUE = 2000;
const MAX_SEEN = 100_000;

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' || v === '-' ? undefined : v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function port(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

function basename(p: string): string {
  const i = Math.max(p.lastIndexOf('\\'), p.lastIndexOf('/'));
  return i >= 0 ? p.slice(i + 1) : p;
}

/** Sysmon's QueryResults: `type:  5 alias.example;::ffff:203.0.113.9;203.0.113.9;`. */
function answerAddresses(results: string | undefined): string[] {
  if (!results) return [];
  const out: string[] = [];
  for (const part of results.split(';')) {
    const t = part.trim().replace(/^::ffff:/i, '');
    if (t && !t.startsWith('type:') && /^[\d.]+$|^[0-9a-f:]+$/i.test(t) && !out.includes(t)) out.push(t);
  }
  return out;
}

function trimmed(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data))
    out[k] =
      typeof v === 'string' && v.length > MAX_EVIDENCE_VALUE ? `${v.slice(0, MAX_EVIDENCE_VALUE)}…` : v;
  return out;
}

interface Observed {
  query?: string;
  answers: string[];
  destination?: EcsEndpoint;
  process?: EcsProcess;
}

/**
 * What an event log record says about DNS and outbound connections, from
 * Sysmon 22 (QueryName), Sysmon 3 (DestinationIp/Port/Hostname), Security
 * 5156 (DestAddress/DestPort) or ECS fields other sources fill in.
 */
function observe(e: EcsEvent): Observed | undefined {
  const d = e.winlog?.event_data ?? {};
  const code = String(e.event?.code ?? e.winlog?.event_id ?? '');
  const out: Observed = { answers: [] };
  const query = str(d['QueryName']) ?? e.dns?.question?.name;
  if (query) {
    out.query = query;
    out.answers = answerAddresses(str(d['QueryResults']));
    for (const a of e.dns?.answers ?? [])
      if (a.data && /^[\d.:a-f]+$/i.test(a.data)) out.answers.push(a.data);
  }
  const dest: EcsEndpoint = {};
  if (code === '5156' && d['DestAddress'] !== undefined) {
    if (!INBOUND.has(String(d['Direction'] ?? '').toLowerCase())) {
      const ip = str(d['DestAddress']);
      const p = port(d['DestPort']);
      if (ip) dest.ip = ip;
      if (p !== undefined) dest.port = p;
    }
  } else if (d['DestinationIp'] !== undefined || d['DestinationHostname'] !== undefined) {
    // Sysmon 3 with Initiated=false is an inbound connection: the pool would be the source, and pools do not call in.
    if (String(d['Initiated'] ?? 'true').toLowerCase() !== 'false') {
      const ip = str(d['DestinationIp']);
      const p = port(d['DestinationPort']);
      const host = str(d['DestinationHostname']);
      if (ip) dest.ip = ip;
      if (p !== undefined) dest.port = p;
      if (host) dest.domain = host;
    }
  } else if (e.destination) {
    if (e.destination.ip) dest.ip = e.destination.ip;
    if (e.destination.port !== undefined) dest.port = e.destination.port;
    if (e.destination.domain) dest.domain = e.destination.domain;
  }
  if (dest.ip || dest.domain) out.destination = dest;
  if (!out.query && !out.destination) return undefined;
  const exe = str(d['Image']) ?? str(d['Application']) ?? e.process?.executable;
  const pid = port(d['ProcessId'] ?? d['ProcessID']) ?? e.process?.pid;
  if (exe || pid !== undefined) {
    const p: EcsProcess = {};
    if (pid !== undefined) p.pid = pid;
    if (exe) {
      p.executable = exe;
      p.name = basename(exe);
    }
    out.process = p;
  }
  return out;
}

/**
 * Checks DNS queries and outbound connections in event logs against the
 * threat-intel engine (and the built-in pool floor), beside the Sigma rules:
 * one builtin finding per host and matched indicator. Pure: the engine is
 * passed in; DNS answers of listed names feed its passive-DNS memory so a
 * later connection to those addresses matches.
 */
export class IntelMatchDetector implements Detector<EcsEvent> {
  readonly id = 'intel-match';
  readonly description = 'DNS queries and connections in event logs to pools listed by threat intelligence';
  private readonly pools: PoolCheck;
  private readonly seen = new Set<string>();

  constructor(opts: IntelMatchOptions = {}) {
    this.pools = new PoolCheck({ intel: opts.intel, floor: opts.floor });
  }

  detect(e: EcsEvent): Finding[] {
    const o = observe(e);
    if (!o) return [];
    const out: Finding[] = [];
    if (o.query) {
      const v = this.pools.domain(o.query);
      if (v && v !== 'allowed') {
        this.pools.observeDnsAnswer(o.query, o.answers, 0);
        this.emit(out, e, o, RULES.dns, v, `looked up ${o.query}`);
      }
    }
    const d = o.destination;
    if (d) {
      let v = d.ip ? this.pools.ip(d.ip, d.port) : undefined;
      if (v === undefined && d.domain) v = this.pools.domain(d.domain);
      if (v && v !== 'allowed') {
        const where = `${d.domain && d.domain !== d.ip ? `${d.domain} ` : ''}${d.ip ?? ''}${d.port !== undefined ? `:${d.port}` : ''}`;
        this.emit(out, e, o, RULES.connection, v, `connected to ${where.trim()}`);
      }
    }
    return out;
  }

  private emit(
    out: Finding[],
    e: EcsEvent,
    o: Observed,
    rule: (typeof RULES)[keyof typeof RULES],
    hit: PoolHit,
    what: string,
  ): void {
    const host = e.host?.name ?? e.winlog?.computer_name ?? e.host?.hostname ?? 'unknown';
    // The first record is the evidence; the same host meeting the same pool again is the same story.
    const key = `${rule.id}\0${host}\0${hit.indicator}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(key);
    const evidence: Record<string, unknown> = { intel: hitEvidence(hit) };
    const data = e.winlog?.event_data;
    if (data) evidence['event_data'] = trimmed(data);
    if (e.log?.file?.path) {
      const src: Record<string, unknown> = { path: e.log.file.path };
      if (e.log.offset !== undefined) src['offset'] = e.log.offset;
      if (e.log.line !== undefined) src['line'] = e.log.line;
      evidence['source'] = src;
    }
    const by = o.process?.executable ? ` (${o.process.executable})` : '';
    const winlog: NonNullable<Finding['winlog']> = {};
    if (e.winlog?.channel) winlog.channel = e.winlog.channel;
    if (e.winlog?.record_id !== undefined) winlog.record_id = e.winlog.record_id;
    const code = e.event?.code ?? (e.winlog?.event_id !== undefined ? String(e.winlog.event_id) : undefined);
    out.push(
      makeFinding({
        rule: { ...rule },
        severity: 'high',
        techniques: ['T1496'],
        host,
        subject: [hit.indicator],
        message: `${host}${by} ${what}, a mining pool listed by ${hit.source} (${hit.indicator}${hit.via ? `, an address of ${hit.via}` : ''}); find the process and treat the host as running a miner.`,
        ...(e['@timestamp'] ? { timestamp: e['@timestamp'] } : {}),
        ...(o.process ? { process: o.process } : {}),
        ...(o.destination && rule === RULES.connection ? { destination: { ...o.destination } } : {}),
        ...(o.query && rule === RULES.dns ? { dns: { question: { name: o.query } } } : {}),
        ...(code ? { event: { code } } : {}),
        ...(Object.keys(winlog).length ? { winlog } : {}),
        evidence,
      }),
    );
  }
}
