import type { EcsEndpoint, EcsEvent, EcsProcess } from '../../core/event.ts';
import { rawHostOf } from '../../core/event.ts';
import type { Finding } from '../../core/finding.ts';
import { makeFinding } from '../../core/finding.ts';
import { canonicalHostName } from '../../core/host-identity.ts';
import type { RuleDeclaration, StreamDetector } from '../../core/stages.ts';
import { basename } from '../../core/text.ts';
import type { IntelEngine } from '../../intel/index.ts';
import type { PoolSighting } from './pool-check.ts';
import { hitEvidence, PoolCheck } from './pool-check.ts';

export interface IntelMatchOptions {
  intel?: IntelEngine | undefined;
  /** Built-in pool domains checked after the engine (the shipped pool list, data/intel/pools.txt). */
  builtinPools?: ReadonlySet<string> | undefined;
  /** The pool matcher to feed (shared with the network analysis of the same run); default: its own. */
  pools?: PoolCheck | undefined;
}

const POOL_DNS: RuleDeclaration = {
  id: 'deminer.intel.pool_dns',
  name: 'DNS query for a listed mining pool',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage:
    'Find the process that asked (process.executable, or the DNS client log of the host); a host resolving a pool is usually about to mine. Check evidence.intel for the list that names it.',
};
const POOL_CONNECTION: RuleDeclaration = {
  id: 'deminer.intel.pool_connection',
  name: 'Connection to a listed mining pool',
  ruleset: 'builtin',
  severity: { min: 'high', max: 'high' },
  techniques: ['T1496'],
  triage:
    'The process in process.executable connected to destination.ip/port, a listed pool: isolate the host, keep the binary, then block the pool address.',
};

/** What the pool checks over event logs can emit. */
export const POOL_MATCH_RULES: readonly RuleDeclaration[] = [POOL_DNS, POOL_CONNECTION];

/** Security 5156 "Direction" as the record stores it (%%14592 inbound) or as renderers print it. */
const INBOUND = new Set(['%%14592', 'inbound']);
const MAX_EVIDENCE_VALUE = 2000;
const MAX_REPORTED = 100_000;

/** A field value as text; Windows writes `-` for "none". */
function fieldText(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' || v === '-' ? undefined : v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function portNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

/** Process ids: numbers, decimal text, or the `0x…` text of Security-log records. */
function pidNumber(v: unknown): number | undefined {
  const n =
    typeof v === 'number'
      ? v
      : typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v)
        ? Number.parseInt(v, 16)
        : typeof v === 'string' && v !== ''
          ? Number(v)
          : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
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
/** Whether a record says anything the pool checks read (pipelines hand only these across threads). */
export function feedsPoolChecks(e: EcsEvent): boolean {
  return observedIn(e) !== undefined;
}

/** The place a record was seen in, for `seen_in`: `sysmon:22`, `security:5156`, else the log's module or dataset. */
function placeOf(e: EcsEvent, what: 'dns' | 'connection'): string {
  const code = String(e.event?.code ?? e.winlog?.event_id ?? '');
  const channel = (e.winlog?.channel ?? '').toLowerCase();
  if (channel.includes('sysmon') && code) return `sysmon:${code}`;
  if (channel === 'security' && code) return `security:${code}`;
  if (channel.includes('dns-client') && code) return `dns-client:${code}`;
  const module = e.event?.module ?? e.event?.dataset;
  return `${typeof module === 'string' && module !== '' ? module.slice(0, 40) : 'log'}:${what}`;
}

function observedIn(e: EcsEvent): Observed | undefined {
  const data = e.winlog?.event_data ?? {};
  const code = String(e.event?.code ?? e.winlog?.event_id ?? '');
  const out: Observed = { answers: [] };
  const query = fieldText(data['QueryName']) ?? e.dns?.question?.name;
  if (query) {
    out.query = query;
    out.answers = answerAddresses(fieldText(data['QueryResults']));
    for (const a of e.dns?.answers ?? [])
      if (a.data && /^[\d.:a-f]+$/i.test(a.data)) out.answers.push(a.data);
  }
  const dest: EcsEndpoint = {};
  if (code === '5156' && data['DestAddress'] !== undefined) {
    if (!INBOUND.has(String(data['Direction'] ?? '').toLowerCase())) {
      const ip = fieldText(data['DestAddress']);
      const p = portNumber(data['DestPort']);
      if (ip) dest.ip = ip;
      if (p !== undefined) dest.port = p;
    }
  } else if (data['DestinationIp'] !== undefined || data['DestinationHostname'] !== undefined) {
    // Sysmon 3 with Initiated=false is an inbound connection: the pool would be the source, and pools do not call in.
    if (String(data['Initiated'] ?? 'true').toLowerCase() !== 'false') {
      const ip = fieldText(data['DestinationIp']);
      const p = portNumber(data['DestinationPort']);
      const host = fieldText(data['DestinationHostname']);
      if (ip) dest.ip = ip;
      if (p !== undefined) dest.port = p;
      if (host) dest.domain = host;
    }
  } else if (e.destination) {
    const ip = fieldText(e.destination.ip);
    const p = portNumber(e.destination.port);
    const domain = fieldText(e.destination.domain);
    if (ip) dest.ip = ip;
    if (p !== undefined) dest.port = p;
    if (domain) dest.domain = domain;
  }
  if (dest.ip || dest.domain) out.destination = dest;
  if (!out.query && !out.destination) return undefined;
  const exe = fieldText(data['Image']) ?? fieldText(data['Application']) ?? fieldText(e.process?.executable);
  const pid = pidNumber(data['ProcessId'] ?? data['ProcessID'] ?? e.process?.pid);
  const name = exe ? basename(exe) : fieldText(e.process?.name);
  if (exe || name || pid !== undefined) {
    const p: EcsProcess = {};
    if (pid !== undefined) p.pid = pid;
    if (exe) p.executable = exe;
    if (name) p.name = name;
    out.process = p;
  }
  return out;
}

/**
 * Checks DNS queries and outbound connections in event logs against the
 * threat-intel engine (and the built-in pool list), beside the Sigma rules:
 * one builtin finding per host and matched indicator. Pure: the engine is
 * passed in; DNS answers of listed names feed its passive-DNS memory so a
 * later connection to those addresses matches.
 */
export class IntelMatchDetector implements StreamDetector<EcsEvent> {
  readonly id = 'intel-match';
  readonly description = 'DNS queries and connections in event logs to pools listed by threat intelligence';
  readonly rules = POOL_MATCH_RULES;
  private readonly pools: PoolCheck;
  /** (rule, host, indicator) already reported: bounded, cleared when full. */
  private readonly reported = new Set<string>();

  constructor(opts: IntelMatchOptions = {}) {
    this.pools = opts.pools ?? new PoolCheck({ intel: opts.intel, builtinPools: opts.builtinPools });
  }

  observe(e: EcsEvent): Finding[] {
    const observed = observedIn(e);
    if (!observed) return [];
    const out: Finding[] = [];
    const host = canonicalHostName(rawHostOf(e) ?? '');
    const process = observed.process?.executable ?? observed.process?.name;
    if (observed.query) {
      const verdict = this.pools.observe({
        kind: 'domain',
        indicator: observed.query,
        where: placeOf(e, 'dns'),
        host,
        process,
      });
      if (verdict && verdict !== 'allowed') {
        this.pools.observeDnsAnswer(observed.query, observed.answers, 0);
        this.emit(out, e, observed, POOL_DNS, verdict, `looked up ${observed.query}`);
      }
    }
    const dest = observed.destination;
    if (dest) {
      const where = placeOf(e, 'connection');
      let verdict: PoolSighting | 'allowed' | undefined = dest.ip
        ? this.pools.observe({ kind: 'endpoint', indicator: dest.ip, port: dest.port, where, host, process })
        : undefined;
      if (verdict === undefined && dest.domain)
        verdict = this.pools.observe({ kind: 'domain', indicator: dest.domain, where, host, process });
      if (verdict && verdict !== 'allowed') {
        const where = `${dest.domain && dest.domain !== dest.ip ? `${dest.domain} ` : ''}${dest.ip ?? ''}${dest.port !== undefined ? `:${dest.port}` : ''}`;
        this.emit(out, e, observed, POOL_CONNECTION, verdict, `connected to ${where.trim()}`);
      }
    }
    return out;
  }

  /** Every finding is made as its record arrives: nothing waits for the end. */
  finalize(): Finding[] {
    return [];
  }

  private emit(
    out: Finding[],
    e: EcsEvent,
    observed: Observed,
    rule: RuleDeclaration,
    pool: PoolSighting,
    what: string,
  ): void {
    const hostname = rawHostOf(e);
    const host = canonicalHostName(hostname ?? '');
    // The first record is the evidence; the same host meeting the same pool again is the same story.
    const key = `${rule.id}\0${host}\0${pool.indicator}`;
    if (this.reported.has(key)) return;
    if (this.reported.size >= MAX_REPORTED) this.reported.clear();
    this.reported.add(key);
    const evidence: Record<string, unknown> = { intel: hitEvidence(pool), seen_in: pool.seenIn };
    if (pool.learnedFrom) evidence['learned_from'] = pool.learnedFrom;
    const data = e.winlog?.event_data;
    if (data) evidence['event_data'] = trimmed(data);
    if (e.log?.file?.path) {
      const src: Record<string, unknown> = { path: e.log.file.path };
      if (e.log.offset !== undefined) src['offset'] = e.log.offset;
      if (e.log.line !== undefined) src['line'] = e.log.line;
      evidence['source'] = src;
    }
    const by = observed.process?.executable ? ` (${observed.process.executable})` : '';
    const winlog: NonNullable<Finding['winlog']> = {};
    if (e.winlog?.channel) winlog.channel = e.winlog.channel;
    if (e.winlog?.record_id !== undefined) winlog.record_id = e.winlog.record_id;
    const code = e.event?.code ?? (e.winlog?.event_id !== undefined ? String(e.winlog.event_id) : undefined);
    out.push(
      makeFinding({
        rule: { id: rule.id, name: rule.name, ruleset: rule.ruleset },
        severity: 'high',
        techniques: rule.techniques,
        host,
        hostname,
        subject: [pool.indicator],
        message: `${host}${by} ${what}, a mining pool listed by ${pool.source} (${pool.indicator}${pool.via ? `, an address of ${pool.via}` : ''}); find the process and treat the host as running a miner.`,
        ...(e['@timestamp'] ? { timestamp: e['@timestamp'] } : {}),
        ...(observed.process ? { process: observed.process } : {}),
        ...(observed.destination && rule === POOL_CONNECTION
          ? { destination: { ...observed.destination } }
          : {}),
        ...(observed.query && rule === POOL_DNS ? { dns: { question: { name: observed.query } } } : {}),
        ...(code ? { event: { code } } : {}),
        ...(Object.keys(winlog).length ? { winlog } : {}),
        evidence,
      }),
    );
  }
}
