import type { IntelEngine } from '../../intel/index.ts';
import { networkLists } from '../network/lists.ts';
import { PoolCheck } from '../pool-match/pool-check.ts';
import type { PoolIntel, PoolMatch } from './types.ts';

/** `host:port`, `[v6]:port`, a bare host or a bare IPv6 address, as a miner names its pool. */
function splitPool(pool: string): { host: string; port?: number } {
  // Bare IPv6 has several colons and no port; otherwise host[:port] or [v6]:port.
  if (pool.indexOf(':') !== pool.lastIndexOf(':') && !pool.startsWith('[')) return { host: pool };
  const m = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(pool);
  if (!m) return { host: pool };
  return m[2] ? { host: m[1]!, port: Number(m[2]) } : { host: m[1]! };
}

/**
 * The host analytics' view of the one pool matcher (src/detect/pool-match):
 * the threat-intel engine when there is one, the shipped pool list always
 * (so that `--no-intel` still knows the pools), each sighting noted with
 * where it was seen (`socket`, `cmdline`) for evidence `seen_in`, and the
 * pools the fleet learned when the agent seeds them from the server (a host
 * scan sees no mining protocol to learn from itself).
 */
export function hostPoolIntel(intel: IntelEngine | undefined): PoolIntel {
  let check = new PoolCheck({ intel, builtinPools: networkLists().poolDomains, learned: false });
  const hit = (v: ReturnType<PoolCheck['observe']>): PoolMatch | undefined =>
    v === undefined || v === 'allowed'
      ? undefined
      : { indicator: v.indicator, source: v.source, seenIn: v.seenIn };
  return {
    seedLearned(pools) {
      // A fresh matcher: the server's list replaces the last one (pools it dropped expire here too).
      const next = new PoolCheck({ intel, builtinPools: networkLists().poolDomains });
      next.seedLearned(pools);
      check = next;
    },
    matchIp: (ip, port, seen) =>
      hit(
        check.observe({
          kind: 'endpoint',
          indicator: ip,
          port,
          where: seen?.where ?? 'socket',
          host: seen?.host ?? '',
          process: seen?.process,
        }),
      ),
    matchPool(pool, seen) {
      const where = seen?.where ?? 'cmdline';
      const host = seen?.host ?? '';
      const process = seen?.process;
      const scheme = pool.indexOf('://');
      if (scheme >= 0) {
        const target = splitPool(pool.slice(scheme + 3).split('/')[0] ?? '');
        return hit(
          check.observe({ kind: 'url', indicator: pool, urlHost: target.host, where, host, process }),
        );
      }
      const target = splitPool(pool);
      if (/^[\d.]+$/.test(target.host) || target.host.includes(':'))
        return hit(
          check.observe({
            kind: 'endpoint',
            indicator: target.host,
            port: target.port,
            where,
            host,
            process,
          }),
        );
      return hit(check.observe({ kind: 'domain', indicator: target.host, where, host, process }));
    },
  };
}
