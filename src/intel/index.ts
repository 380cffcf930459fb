/**
 * Threat intelligence for pool checks: one engine that the host scanner,
 * hunt and network analysis share.
 *
 *   import { loadDefaultIntel } from './index.ts';
 *   const intel = loadDefaultIntel();         // shipped pool feed + last `intel update`, loaded once
 *   intel.matchDomain('eu.pool.example');     // listed suffixes: pool.example matches its subdomains
 *   intel.matchIp('198.51.100.7');            // IPv4/IPv6 addresses, CIDRs, passive-DNS addresses
 *   intel.matchIpPort('198.51.100.7', 3333);  // the above plus IP:port indicators for this port
 *   intel.matchUrl('stratum+tcp://pool.example:3333');  // exact URL indicators plus the host's matches
 *   intel.observeDnsAnswer('pool.example', ['203.0.113.9'], 300);  // answer of a listed name → temp indicator
 *
 * Every match returns an `IntelVerdict`:
 *   { listed, allowed, matches: [{ indicator, type, source, confidence, firstSeen?, lastSeen?, expires?, via? }],
 *     allowedBy? }
 * `listed` is what a pool check should act on: something matched and the
 * allow-list (user entries, shared CDN ranges, the organisation's domains)
 * does not cover the value. Misses return the shared frozen `NO_MATCH`
 * without allocating, so checking every flow and DNS answer is cheap.
 * Names are matched as given on the wire (ASCII, any case, trailing dot
 * ignored). Detectors that must not read files take an `IntelEngine`
 * argument; the CLI and agents build it with `loadDefaultIntel()` or
 * `buildIntel({ stateDir, config, now })`.
 */
import type { IntelEngine } from './engine.ts';
import type { LoadOptions } from './load.ts';
import { buildIntel } from './load.ts';

export type { FeedConfig, IntelConfig } from './config.ts';
export { intelConfigSchema, loadIntelConfig, parseIntelConfig, resolveStateDir } from './config.ts';
export type { DnsObservation, FeedHealth, IntelStats } from './engine.ts';
export { IntelEngine } from './engine.ts';
export type { LoadOptions } from './load.ts';
export { buildIntel } from './load.ts';
export type { RefreshOutcome } from './refresh.ts';
export { refreshAll, refreshFeed } from './refresh.ts';
export type { Indicator, IndicatorType, IntelMatch, IntelVerdict } from './types.ts';
export { NO_MATCH } from './types.ts';

let shared: IntelEngine | undefined;

/** The engine for this process, built on first use from the default state directory. */
export function loadDefaultIntel(options?: LoadOptions): IntelEngine {
  shared ??= buildIntel(options);
  return shared;
}
