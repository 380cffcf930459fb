import type { Indicator } from '../types.ts';

/**
 * An nftables ruleset: interval sets of listed addresses and networks (and
 * address . port pairs) with output and forward chains that drop traffic to
 * them. The table is declared, deleted and redefined in one file, so
 * `nft -f` swaps it atomically. Domains cannot be expressed in nftables;
 * use the hosts/RPZ or Suricata exports for them.
 */
export function toNftables(indicators: Iterable<Indicator>, table = 'deminer_intel'): string {
  const v4: string[] = [];
  const v6: string[] = [];
  const v4Port: string[] = [];
  const v6Port: string[] = [];
  for (const i of indicators) {
    if (i.type === 'ipv4' || i.type === 'ipv4-cidr') v4.push(i.value);
    else if (i.type === 'ipv6' || i.type === 'ipv6-cidr') v6.push(i.value);
    else if (i.type === 'ip-port') {
      const colon = i.value.lastIndexOf(':');
      const port = i.value.slice(colon + 1);
      if (i.value.startsWith('[')) v6Port.push(`${i.value.slice(1, colon - 1)} . ${port}`);
      else v4Port.push(`${i.value.slice(0, colon)} . ${port}`);
    }
  }
  const set = (name: string, type: string, elements: string[], interval: boolean): string[] => [
    `  set ${name} {`,
    `    type ${type}`,
    ...(interval ? ['    flags interval', '    auto-merge'] : []),
    ...(elements.length > 0 ? [`    elements = { ${[...new Set(elements)].sort().join(',\n      ')} }`] : []),
    '  }',
  ];
  const rules = [
    'ip daddr @pool_v4 counter drop',
    'ip6 daddr @pool_v6 counter drop',
    'ip daddr . tcp dport @pool_v4_port counter drop',
    'ip6 daddr . tcp dport @pool_v6_port counter drop',
  ];
  const chain = (name: string, hook: string): string[] => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
  ];
  return `${[
    '# deminer intel export: addresses of listed mining pools (allow-listed entries left out)',
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    ...set('pool_v4', 'ipv4_addr', v4, true),
    ...set('pool_v6', 'ipv6_addr', v6, true),
    ...set('pool_v4_port', 'ipv4_addr . inet_service', v4Port, false),
    ...set('pool_v6_port', 'ipv6_addr . inet_service', v6Port, false),
    ...chain('output', 'output'),
    ...chain('forward', 'forward'),
    '}',
  ].join('\n')}\n`;
}
