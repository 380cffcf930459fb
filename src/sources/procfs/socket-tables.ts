import { readFileSync } from 'node:fs';
import type { SocketInfo } from '../../core/host-snapshot.ts';
import { parseNetTable } from './proc-parse.ts';
import type { ScanCache } from './scan-cache.ts';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The TCP counters of /proc/PID/net/snmp that move whenever a connection is opened, accepted, fails, resets or leaves ESTABLISHED. */
const SNMP_FIELDS = ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab'];

/** Values of the SNMP_FIELDS (ActiveOpens first), or undefined. */
function tcpCounters(netDir: string): string[] | undefined {
  const snmp = readText(`${netDir}/snmp`);
  if (!snmp) return undefined;
  const lines = snmp.split('\n').filter((l) => l.startsWith('Tcp:'));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.split(' ');
  const values = lines[1]!.split(' ');
  const out: string[] = [];
  for (const f of SNMP_FIELDS) {
    const i = names.indexOf(f);
    if (i < 0 || values[i] === undefined) return undefined;
    out.push(values[i]!);
  }
  return out;
}

/**
 * A summary of a network namespace's TCP state that changes whenever its
 * tables could have: the connection counters above plus the number of TCP
 * sockets in use (sockstat, sockstat6: a new listener counts there).
 * `opens` is ActiveOpens alone: it moves whenever a connection is started
 * from this namespace, which is all a sampling window looks for.
 * Undefined when it cannot be read (then the tables are always read).
 */
export function tcpToken(netDir: string): { all: string; opens: string } | undefined {
  const counters = tcpCounters(netDir);
  const sockstat = readText(`${netDir}/sockstat`);
  if (!counters || !sockstat) return undefined;
  const inuse = /^TCP: inuse (\d+)/m.exec(sockstat)?.[1];
  if (inuse === undefined) return undefined;
  const inuse6 = /^TCP6: inuse (\d+)/m.exec(readText(`${netDir}/sockstat6`) ?? '')?.[1] ?? '-';
  return { all: `${counters.join(' ')} ${inuse} ${inuse6}`, opens: counters[0]! };
}

const copy = (s: SocketInfo): SocketInfo => ({ ...s });

/**
 * Reads the socket tables of each network namespace through one of its
 * processes; when that one has exited or denies access, the next one serves.
 *
 * `all`: TCP and UDP tables as they are now. A namespace's TCP tables are
 * parsed again only when its TCP counters moved (see scan-cache.ts); UDP
 * tables are small and always read.
 *
 * `window` (samples inside a sampling window, looking for connections
 * started since the last read): TCP tables only, and only of namespaces
 * whose ActiveOpens moved since their tables were last read; the others add
 * nothing. The objects may be shared with the cache: read them, do not
 * change them.
 */
export function readSockets(
  procRoot: string,
  nsPids: Map<string, number[]>,
  cache: ScanCache,
  mode: 'all' | 'window' = 'all',
): SocketInfo[] {
  const out: SocketInfo[] = [];
  const now = performance.now();
  for (const [ns, pids] of nsPids) {
    while (pids.length > 0) {
      const pid = pids[0]!;
      const dir = `${procRoot}/${pid}/net`;
      const known = cache.tables.get(ns);
      if (mode === 'window' && known) {
        const opens = tcpCounters(dir)?.[0];
        if (opens !== undefined && opens === known.opens) {
          known.seen = cache.scan;
          cache.counts.tablesReused++;
          break;
        }
      }
      // Read before the tables: a change after it shows next time.
      const token = tcpToken(dir);
      if (
        mode === 'all' &&
        token !== undefined &&
        known &&
        known.token === token.all &&
        now - known.at < cache.tableMaxAgeMs
      ) {
        known.seen = cache.scan;
        cache.counts.tablesReused++;
        for (const s of known.tcp) out.push(copy(s));
      } else {
        const first = readText(`${dir}/tcp`);
        if (first === undefined) {
          pids.shift();
          continue;
        }
        cache.counts.tablesRead++;
        const tcp = parseNetTable(first, 'tcp', 4, ns);
        const v6 = readText(`${dir}/tcp6`);
        if (v6) for (const s of parseNetTable(v6, 'tcp', 6, ns)) tcp.push(s);
        if (token !== undefined)
          cache.tables.set(ns, {
            token: token.all,
            opens: token.opens,
            at: now,
            tcp: tcp.map(copy),
            seen: cache.scan,
          });
        else cache.tables.delete(ns);
        for (const s of tcp) out.push(s);
      }
      if (mode === 'all') {
        for (const [file, fam] of [
          ['udp', 4],
          ['udp6', 6],
        ] as const) {
          const text = readText(`${dir}/${file}`);
          if (text) for (const s of parseNetTable(text, 'udp', fam, ns)) out.push(s);
        }
      }
      break;
    }
  }
  return out;
}
