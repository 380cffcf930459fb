import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILTIN_ALLOW,
  BUILTIN_ALLOW_SOURCE,
  BUILTIN_POOLS,
  BUILTIN_POOLS_SOURCE,
  readBuiltin,
} from './builtin.ts';
import type { IntelConfig } from './config.ts';
import { defaultIntelConfig, resolveStateDir } from './config.ts';
import type { FeedHealth } from './engine.ts';
import { IntelEngine } from './engine.ts';
import { IndicatorIndex } from './indicator-index.ts';
import { parsePlain } from './parsers/plain.ts';
import { DEFAULT_PASSIVE_DNS, PassiveDns } from './passive-dns.ts';
import type { StoredSettings } from './refresh.ts';
import type { FeedState } from './state.ts';
import { compiledPath, deserializeIndicators, listFeedStates } from './state.ts';

export interface LoadOptions {
  /** Defaults to `$DEMINER_HOME/intel` or `~/.deminer/intel`. */
  stateDir?: string;
  /** When given, it decides which feeds and allow entries count; otherwise the last `intel update` does. */
  config?: IntelConfig;
  /** Clock for expiry and passive DNS (tests and replays pass their own). */
  now?: () => number;
  /** Carry passive-DNS memory over from an engine being replaced. */
  passiveDns?: PassiveDns;
}

/**
 * Builds an engine from the shipped lists, the last good copy of every
 * feed in the state directory and the allow-list. A feed file that cannot
 * be read costs only that feed (its health says so).
 */
export function buildIntel(options: LoadOptions = {}): IntelEngine {
  const now = options.now ?? Date.now;
  const stateDir = resolveStateDir(options.stateDir, options.config);
  const settings = options.config ? fromConfig(options.config) : readSettings(stateDir);
  const states = listFeedStates(stateDir).filter(
    (s) => settings.feeds === undefined || settings.feeds.includes(s.name),
  );
  const expected = states.reduce((n, s) => n + (s.role === 'block' ? s.indicators : 0), 1024);
  const feeds = new IndicatorIndex(expected);
  const allow = new IndicatorIndex();
  const health: FeedHealth[] = [];

  if (settings.builtin) {
    const r = parsePlain(readBuiltin(BUILTIN_POOLS), {
      source: BUILTIN_POOLS_SOURCE,
      confidence: 80,
      file: 'data/intel/pools.txt',
    });
    for (const ind of r.indicators) feeds.add(ind);
    health.push({ name: BUILTIN_POOLS_SOURCE, status: 'builtin', indicators: r.indicators.length });
  }
  if (settings.builtin_allow) {
    const r = parsePlain(readBuiltin(BUILTIN_ALLOW), {
      source: BUILTIN_ALLOW_SOURCE,
      confidence: 100,
      file: 'data/intel/cdn-allow.txt',
      checkPublicSuffix: false,
    });
    for (const ind of r.indicators) allow.add(ind);
    health.push({ name: BUILTIN_ALLOW_SOURCE, status: 'builtin', indicators: r.indicators.length });
  }
  for (const s of states) {
    const into = s.role === 'allow' ? allow : feeds;
    let count = 0;
    let warning = s.warning;
    try {
      count = deserializeIndicators(readFileSync(compiledPath(stateDir, s.name)), s.name, (ind) =>
        into.add(ind),
      );
    } catch {
      warning = 'no good copy on disk yet';
    }
    health.push(feedHealth(s, count, warning, now()));
  }
  for (const name of settings.feeds ?? [])
    if (!states.some((s) => s.name === name))
      health.push({ name, status: 'never-fetched', indicators: 0, warning: 'run `deminer intel update`' });
  for (const ind of settings.allow) allow.add(ind);
  feeds.compact();
  allow.compact();

  const pdns = options.passiveDns ?? new PassiveDns(settings.passiveDns);
  return new IntelEngine(feeds, allow, pdns, now, health);
}

function feedHealth(s: FeedState, count: number, warning: string | undefined, now: number): FeedHealth {
  const h: FeedHealth = { name: s.name, status: s.status, indicators: count };
  if (s.lastSuccess) h.lastSuccess = s.lastSuccess;
  if (s.lastAttempt) h.lastAttempt = s.lastAttempt;
  // Three missed intervals: the copy in use is old enough that someone should look.
  if (s.lastSuccess && now - Date.parse(s.lastSuccess) > 3 * s.intervalMs && s.status !== 'failed') {
    h.status = 'stale';
    warning ??= `last successful update ${s.lastSuccess}`;
  }
  if (warning) h.warning = warning;
  return h;
}

interface Settings {
  builtin: boolean;
  builtin_allow: boolean;
  feeds: string[] | undefined;
  allow: ReturnType<typeof userAllow>;
  passiveDns: typeof DEFAULT_PASSIVE_DNS;
}

function fromConfig(c: IntelConfig): Settings {
  const allow = userAllow(
    [...c.allow.domains, ...c.allow.ips, ...c.allow.urls].map((v) => `${v}\n`).join(''),
    'intel.allow',
  );
  return {
    builtin: c.builtin,
    builtin_allow: c.builtin_allow,
    feeds: c.feeds.filter((f) => f.enabled).map((f) => f.name),
    allow,
    passiveDns: pdnsOptions(c.passive_dns),
  };
}

function readSettings(stateDir: string): Settings {
  const d = defaultIntelConfig();
  let stored: StoredSettings | undefined;
  try {
    stored = JSON.parse(readFileSync(join(stateDir, 'settings.json'), 'utf8')) as StoredSettings;
  } catch {
    stored = undefined;
  }
  const allowFile = join(stateDir, 'allow.tsv');
  const allow: ReturnType<typeof userAllow> = [];
  if (existsSync(allowFile))
    deserializeIndicators(readFileSync(allowFile, 'utf8'), 'user', (i) => allow.push(i));
  return {
    builtin: stored?.builtin ?? d.builtin,
    builtin_allow: stored?.builtin_allow ?? d.builtin_allow,
    feeds: stored?.feeds,
    allow,
    passiveDns: pdnsOptions(stored?.passive_dns ?? d.passive_dns),
  };
}

function userAllow(text: string, file: string) {
  return parsePlain(text, { source: 'user', confidence: 100, file, checkPublicSuffix: false }).indicators;
}

function pdnsOptions(p: IntelConfig['passive_dns']): typeof DEFAULT_PASSIVE_DNS {
  return p.enabled
    ? { minTtlMs: p.min_ttl, maxTtlMs: p.max_ttl, maxEntries: p.max_entries, confidence: p.confidence }
    : { ...DEFAULT_PASSIVE_DNS, maxEntries: 0 };
}
