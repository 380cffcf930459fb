import { parseIPv4 } from '../ip.ts';
import type { Indicator } from '../types.ts';

/** A hosts file that sinks every listed domain (hosts files cannot express "and its subdomains"). */
export function toHosts(indicators: Iterable<Indicator>): string {
  const names = new Set<string>();
  for (const i of indicators) if (i.type === 'domain') names.add(i.value);
  return `# deminer intel export: listed mining domains\n${[...names]
    .sort()
    .map((n) => `0.0.0.0 ${n}`)
    .join('\n')}\n`;
}

/**
 * A DNS Response Policy Zone (BIND, Unbound, Knot Resolver, PowerDNS):
 * NXDOMAIN for each listed domain and its subdomains, `rpz-passthru` for
 * allow-listed names beneath them, and `rpz-ip` triggers for listed IPv4
 * addresses and networks in answers.
 */
export function toRpz(
  indicators: Iterable<Indicator>,
  allowedDomains: Iterable<string>,
  serial = Math.floor(Date.now() / 1000),
): string {
  const names = new Set<string>();
  const ips: string[] = [];
  for (const i of indicators) {
    if (i.type === 'domain') names.add(i.value);
    else if (i.type === 'ipv4' || i.type === 'ipv4-cidr') ips.push(i.value);
  }
  const lines = [
    '; deminer intel export: response policy zone for listed mining domains',
    '$TTL 300',
    `@ IN SOA localhost. hostmaster.localhost. ( ${serial} 3600 600 86400 300 )`,
    '  IN NS localhost.',
  ];
  for (const n of [...names].sort()) lines.push(`${n} CNAME .`, `*.${n} CNAME .`);
  for (const a of [...new Set(allowedDomains)].sort()) lines.push(`${a} CNAME rpz-passthru.`);
  for (const ip of [...new Set(ips)].sort()) {
    const [addr, len = '32'] = ip.split('/');
    if (parseIPv4(addr!) < 0) continue;
    lines.push(`${len}.${addr!.split('.').reverse().join('.')}.rpz-ip CNAME .`);
  }
  return `${lines.join('\n')}\n`;
}
