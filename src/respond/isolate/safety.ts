import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { UsageError } from '../../core/errors.ts';
import { shown } from './target.ts';
import type { IsolationTarget } from './types.ts';

/**
 * The never-isolate list: gateways, DNS servers, domain controllers, the
 * deminer server itself. Isolating one of them takes a site down (or cuts
 * the response off from its own tools), so no request overrides an entry:
 * options and the config file can only add to the list.
 */
export interface ProtectedEntry {
  /** Canonical `address/len`. */
  readonly cidr: string;
  /** Where the entry comes from, shown when it refuses a target. */
  readonly source: string;
}

/** `10.0.0.0/8`, `192.0.2.1` (one host) or an IPv6 prefix, checked strictly; undefined when it is none. */
export function canonicalCidr(text: string): string | undefined {
  const t = text.trim();
  if (t.length === 0 || t.length > 49 || !/^[0-9A-Fa-f:./]+$/.test(t)) return undefined;
  const [addr, len, more] = t.split('/');
  if (more !== undefined || addr === undefined) return undefined;
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  if (!v4 && !(addr.includes(':') && ipaddr.IPv6.isValid(addr))) return undefined;
  const max = v4 ? 32 : 128;
  if (len !== undefined && !/^[0-9]{1,3}$/.test(len)) return undefined;
  const bits = len === undefined ? max : Number(len);
  if (bits > max) return undefined;
  const parsed = ipaddr.parse(addr);
  const shownAddr = parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
  return `${shownAddr}/${bits}`;
}

export function protectedEntry(text: string, source: string): ProtectedEntry {
  const cidr = canonicalCidr(text);
  if (!cidr)
    throw new UsageError('ISOLATE_BAD_NEVER_ISOLATE', `${shown(text)} is not an address or CIDR prefix`, {
      location: source,
    });
  return { cidr, source };
}

function contains(cidr: string, ip: string): boolean {
  const [net, len] = ipaddr.parseCIDR(cidr);
  const addr = ipaddr.parse(ip);
  if (addr.kind() !== net.kind()) {
    // ::ffff:a.b.c.d entries protect the IPv4 host too.
    if (net.kind() === 'ipv6' && (net as ipaddr.IPv6).isIPv4MappedAddress() && len >= 96)
      return addr.match((net as ipaddr.IPv6).toIPv4Address(), len - 96);
    return false;
  }
  return addr.match(net, len);
}

/** The first entry that protects the target, if any. */
export function protectingEntry(
  target: Pick<IsolationTarget, 'ip'>,
  entries: readonly ProtectedEntry[],
): ProtectedEntry | undefined {
  return entries.find((e) => contains(e.cidr, target.ip));
}

/** Refuses (usage error, exit 2) a target on the never-isolate list, naming the entry and where it comes from. */
export function refuseProtected(
  target: Pick<IsolationTarget, 'ip'>,
  entries: readonly ProtectedEntry[],
): void {
  const hit = protectingEntry(target, entries);
  if (hit)
    throw new UsageError(
      'ISOLATE_PROTECTED',
      `refused: ${target.ip} is on the never-isolate list (entry ${hit.cidr} from ${hit.source}); no option overrides it`,
      { location: 'TARGET' },
    );
}

/** A little-endian hex IPv4 of /proc/net/route. */
function v4FromRouteHex(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  if (n === 0) return undefined;
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** `nameserver` lines of a resolv.conf. */
export function nameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const cidr = m?.[1] ? canonicalCidr(m[1].split('%')[0] ?? '') : undefined;
    if (cidr) out.push(cidr.slice(0, cidr.lastIndexOf('/')));
  }
  return out;
}

/**
 * What this machine itself depends on, protected without being listed: its
 * default gateways (/proc/net/route, /proc/net/ipv6_route) and its DNS
 * servers (/etc/resolv.conf, and systemd-resolved's upstream list). Read from
 * the files under `root` so tests can hand in their own.
 */
export function localInfrastructure(root = '/'): ProtectedEntry[] {
  const at = (p: string) => (root === '/' ? p : `${root.replace(/\/$/, '')}${p}`);
  const out: ProtectedEntry[] = [];
  for (const line of readText(at('/proc/net/route')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const gw = f[2] ? v4FromRouteHex(f[2]) : undefined;
    if (gw) out.push({ cidr: `${gw}/32`, source: `this host's gateway (${at('/proc/net/route')})` });
  }
  for (const line of readText(at('/proc/net/ipv6_route')).split('\n')) {
    const hop = line.trim().split(/\s+/)[4];
    if (!hop || !/^[0-9a-f]{32}$/.test(hop) || /^0+$/.test(hop)) continue;
    const text = hop.match(/.{4}/g)!.join(':');
    const cidr = canonicalCidr(text);
    if (cidr) out.push({ cidr, source: `this host's gateway (${at('/proc/net/ipv6_route')})` });
  }
  for (const file of ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'])
    for (const ns of nameservers(readText(at(file)))) {
      const range = ipaddr.parse(ns).range();
      if (range === 'loopback') continue;
      out.push({ cidr: canonicalCidr(ns)!, source: `this host's DNS server (${at(file)})` });
    }
  const byCidr = new Map<string, ProtectedEntry>();
  for (const e of out) if (!byCidr.has(e.cidr)) byCidr.set(e.cidr, e);
  return [...byCidr.values()];
}
