import type { IntelEngine, IntelVerdict } from '../../intel/index.ts';
import type { PoolIntel } from './types.ts';

function first(v: IntelVerdict): { indicator: string; source: string } | undefined {
  if (!v.listed) return undefined;
  const m = v.matches[0];
  return m ? { indicator: m.indicator, source: m.source } : undefined;
}

/** The host analytics' view of the threat-intel engine: listed and not allow-listed, or nothing. */
export function poolIntelFrom(engine: IntelEngine): PoolIntel {
  return {
    matchIp: (ip, port) => first(port !== undefined ? engine.matchIpPort(ip, port) : engine.matchIp(ip)),
    matchPool(pool) {
      if (pool.includes('://')) return first(engine.matchUrl(pool));
      // Bare IPv6 has several colons and no port; otherwise host[:port] or [v6]:port.
      const m = (pool.indexOf(':') !== pool.lastIndexOf(':') && !pool.startsWith('[')
        ? null
        : /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(pool)) ?? [pool, pool];
      const host = m[1]!;
      const port = m[2] ? Number(m[2]) : undefined;
      if (/^[\d.]+$/.test(host) || host.includes(':'))
        return first(port !== undefined ? engine.matchIpPort(host, port) : engine.matchIp(host));
      return first(engine.matchDomain(host));
    },
  };
}
