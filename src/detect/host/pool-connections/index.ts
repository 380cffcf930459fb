import { hostLists } from '../lists.ts';
import type { AnalyticOutput, HostAnalytic } from '../types.ts';
import { processSignal } from '../types.ts';

/** The brief's threshold for outbound connections from one process. */
export const CONNECTIONS_PER_MINUTE = 50;

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/**
 * Connections to pool ports and to listed pool addresses (per network
 * namespace, so miners in containers are seen), and bursts of new outbound
 * connections from one process.
 */
export const poolConnections: HostAnalytic = {
  id: 'pool-connections',
  description: 'Connections to mining-pool ports and listed pools, and outbound connection bursts',
  analyze(snapshot, ctx) {
    const lists = hostLists();
    const out: AnalyticOutput[] = [];
    const seen = new Set<string>();
    const exeOf = new Map(snapshot.processes.map((p) => [p.pid, p.exe ?? p.name]));
    for (const s of snapshot.sockets) {
      if (s.pid === undefined || s.protocol !== 'tcp' || s.state === 'LISTEN' || UNSPECIFIED.has(s.remoteIp))
        continue;
      if (s.state !== 'ESTABLISHED' && s.state !== 'SYN_SENT') continue;
      const endpoint = `${s.remoteIp}:${s.remotePort}`;
      const key = `${s.pid}|${endpoint}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const listed = ctx.poolIntel?.matchIp(s.remoteIp, s.remotePort, {
        where: 'socket',
        host: snapshot.host.name,
        process: exeOf.get(s.pid),
      });
      if (listed) {
        out.push(
          processSignal(s.pid, {
            id: 'network.listed_pool',
            category: 'network',
            weight: 5,
            techniques: ['T1496'],
            text: `is connected to ${endpoint}, a listed mining pool (${listed.source})`,
            evidence: {
              destination: { ip: s.remoteIp, port: s.remotePort },
              indicator: listed.indicator,
              source: listed.source,
              ...(listed.seenIn ? { seen_in: listed.seenIn } : {}),
              netns: s.netns,
            },
          }),
        );
      } else if (lists.poolPorts.has(s.remotePort)) {
        out.push(
          processSignal(s.pid, {
            id: 'network.pool_port',
            category: 'network',
            weight: 3,
            techniques: ['T1496', 'T1571'],
            text: `is connected to ${endpoint}, a port mining pools use`,
            evidence: { destination: { ip: s.remoteIp, port: s.remotePort }, state: s.state, netns: s.netns },
          }),
        );
      }
    }
    const minutes = snapshot.windowMs / 60_000;
    // Below a few seconds of observation a rate says little.
    if (snapshot.windowMs >= 5_000) {
      for (const [pidText, count] of Object.entries(snapshot.newOutbound)) {
        const rate = count / minutes;
        if (rate > CONNECTIONS_PER_MINUTE) {
          out.push(
            processSignal(Number(pidText), {
              id: 'network.connection_burst',
              category: 'network',
              weight: 2,
              techniques: ['T1046'],
              text: `opened ${count} outbound connections in ${Math.round(snapshot.windowMs / 1000)} s (${Math.round(rate)} a minute; threshold ${CONNECTIONS_PER_MINUTE})`,
              evidence: { newConnections: count, perMinute: Math.round(rate) },
            }),
          );
        }
      }
    }
    return out;
  },
};
