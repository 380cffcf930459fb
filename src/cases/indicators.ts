import { isIP } from 'node:net';
import type { Finding } from '../core/finding.ts';
import { type Coin, walletsIn } from './wallet.ts';

/**
 * What ties incidents on different hosts to one campaign: the attacker's
 * wallet, the pool the miners report to, the miner binary's hash and the
 * command-and-control domains. Read from any finding's fields; findings
 * are free-form in `evidence`, so known keys are looked for at any depth
 * and wallet addresses anywhere in any string (they are validated, so a
 * random 95-character token is not taken for one).
 */
export type IndicatorKind = 'wallet' | 'pool' | 'hash' | 'domain';

export interface Indicator {
  kind: IndicatorKind;
  /** Normalised: a wallet as written; a pool as its domain or `address:port`; a hash lower-case hex; a domain lower-case. */
  value: string;
  /** Wallets: the coin the address checks out for. */
  coin?: Coin;
}

export const MINING_TECHNIQUE = 'T1496';

export function isMiningFinding(f: Pick<Finding, 'threat'>): boolean {
  return f.threat.technique.some((t) => t === MINING_TECHNIQUE || t.startsWith(`${MINING_TECHNIQUE}.`));
}

const POOL_KEYS = new Set(['pool', 'pools', 'destinations', 'pool_endpoint']);
const HASH_KEYS = new Set(['sha256', 'sha1', 'md5', 'hash', 'hashes', 'exe_sha256']);
const DOMAIN_KEYS = new Set(['domains', 'domain', 'names', 'c2', 'server_name']);
const HEX_HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/**
 * A pool as one indicator: its domain when it has one (a pool's many ports
 * and addresses are one pool), else `address:port` (the address alone when
 * no port is known). Schemes (`stratum+tcp://`, `stratum+ssl://`) and paths
 * are dropped. Undefined for what is no endpoint.
 */
export function normalisePool(raw: string): string | undefined {
  let s = raw.trim().toLowerCase();
  s = s.replace(/^[a-z0-9+.-]*:\/\//, '');
  s = s.replace(/^[^@/]*@/, '');
  s = s.split(/[/?#\s]/)[0] ?? '';
  if (s === '') return undefined;
  let host = s;
  let port: string | undefined;
  const v6 = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(s);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else if (isIP(s) === 6) {
    host = s;
  } else {
    const m = /^(.*):(\d{1,5})$/.exec(s);
    if (m) {
      host = m[1]!;
      port = m[2];
    }
  }
  if (isIP(host) !== 0) {
    const addr = isIP(host) === 6 ? `[${host}]` : host;
    return port === undefined ? host : `${addr}:${port}`;
  }
  host = host.replace(/\.$/, '');
  return DOMAIN.test(host) ? host : undefined;
}

function normaliseDomain(raw: string): string | undefined {
  const d = raw.trim().toLowerCase().replace(/\.$/, '');
  return DOMAIN.test(d) ? d : undefined;
}

class Collector {
  readonly #seen = new Map<string, Indicator>();
  add(i: Indicator): void {
    const key = `${i.kind}\n${i.value}`;
    if (!this.#seen.has(key)) this.#seen.set(key, i);
  }
  list(): Indicator[] {
    return [...this.#seen.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.value.localeCompare(b.value),
    );
  }
}

const MAX_DEPTH = 8;
const MAX_STRINGS = 2000;

/** Every indicator a finding carries. */
export function indicatorsOf(f: Finding): Indicator[] {
  const out = new Collector();
  const mining = isMiningFinding(f);
  let budget = MAX_STRINGS;

  const strings = (v: unknown): string[] =>
    typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

  const walk = (v: unknown, key: string | undefined, depth: number): void => {
    if (budget <= 0 || depth > MAX_DEPTH) return;
    if (typeof v === 'string') {
      budget--;
      for (const w of walletsIn(v)) out.add({ kind: 'wallet', value: w.address, coin: w.coin });
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, key, depth + 1);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const lk = k.toLowerCase();
      if (lk === 'destination' && mining && x !== null && typeof x === 'object' && !Array.isArray(x)) {
        const d = x as { ip?: unknown; port?: unknown; domain?: unknown };
        const host = typeof d.domain === 'string' ? d.domain : typeof d.ip === 'string' ? d.ip : undefined;
        const p =
          host === undefined
            ? undefined
            : normalisePool(
                typeof d.port === 'number' && typeof d.domain !== 'string' ? endpoint(host, d.port) : host,
              );
        if (p) out.add({ kind: 'pool', value: p });
      } else if (POOL_KEYS.has(lk)) {
        for (const s of strings(x)) {
          const p = normalisePool(s);
          if (p) out.add({ kind: 'pool', value: p });
        }
      } else if (HASH_KEYS.has(lk)) {
        for (const s of strings(x)) if (HEX_HASH.test(s)) out.add({ kind: 'hash', value: s.toLowerCase() });
      } else if (DOMAIN_KEYS.has(lk) && !mining) {
        for (const s of strings(x)) {
          const d = normaliseDomain(s);
          if (d) out.add({ kind: 'domain', value: d });
        }
      }
      walk(x, lk, depth + 1);
    }
  };

  walk(f.evidence, undefined, 0);
  if (f.process?.command_line) walk(f.process.command_line, undefined, 0);
  if (f.process?.parent?.command_line) walk(f.process.parent.command_line, undefined, 0);
  const sha = f.process?.hash?.sha256;
  if (sha && HEX_HASH.test(sha)) out.add({ kind: 'hash', value: sha.toLowerCase() });

  // Where a mining finding connects or resolves is the pool; elsewhere a name looked up is a C2 candidate.
  const names = [f.destination?.domain, f.dns?.question.name, f.tls?.server_name].filter(
    (x): x is string => typeof x === 'string' && x !== '',
  );
  if (mining) {
    for (const n of names) {
      const p = normalisePool(n);
      if (p) out.add({ kind: 'pool', value: p });
    }
    if (names.length === 0 && f.destination?.ip) {
      const p = normalisePool(
        f.destination.port === undefined ? f.destination.ip : endpoint(f.destination.ip, f.destination.port),
      );
      if (p) out.add({ kind: 'pool', value: p });
    }
  } else {
    for (const n of names) {
      const d = normaliseDomain(n);
      if (d) out.add({ kind: 'domain', value: d });
    }
  }
  return out.list();
}

function endpoint(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
