import type { Indicator } from '../types.ts';

export interface SuricataOptions {
  /** First SID of the block the rules use; the local-use range starts at 1,000,000. */
  sidBase?: number;
  /** How many SIDs the block spans (rules keep their SID while the list changes, barring collisions). */
  sidSpan?: number;
}

/**
 * Suricata rules: a `dns.query` rule per listed domain that also matches its
 * subdomains (`dotprefix` + `endswith`), and an address rule per listed IP,
 * network or IP:port. SIDs come from a hash of the indicator, so a rule
 * keeps its SID from one export to the next.
 */
export function toSuricata(indicators: Iterable<Indicator>, options: SuricataOptions = {}): string {
  const base = options.sidBase ?? 1_700_000;
  const span = options.sidSpan ?? 200_000;
  const used = new Set<number>();
  const sid = (key: string): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    let s = (h >>> 0) % span;
    while (used.has(s)) s = (s + 1) % span;
    used.add(s);
    return base + s;
  };
  const seen = new Set<string>();
  const rules: string[] = ['# deminer intel export: Suricata rules for listed mining pools'];
  const sorted = [...indicators].sort((a, b) => a.value.localeCompare(b.value));
  for (const i of sorted) {
    const key = `${i.type}|${i.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const meta = `metadata:deminer_source ${i.source.replace(/[^A-Za-z0-9_.-]/g, '_')}, confidence ${i.confidence}`;
    switch (i.type) {
      case 'domain':
        rules.push(
          `alert dns $HOME_NET any -> any any (msg:"deminer intel: DNS query for listed mining domain ${i.value}"; dns.query; dotprefix; content:".${i.value}"; nocase; endswith; classtype:coin-mining; sid:${sid(key)}; rev:1; ${meta};)`,
        );
        break;
      case 'ipv4':
      case 'ipv4-cidr':
      case 'ipv6':
      case 'ipv6-cidr':
        rules.push(
          `alert ip $HOME_NET any -> ${i.value} any (msg:"deminer intel: traffic to listed mining address ${i.value}"; classtype:coin-mining; sid:${sid(key)}; rev:1; ${meta};)`,
        );
        break;
      case 'ip-port': {
        const colon = i.value.lastIndexOf(':');
        const ip = i.value.slice(0, colon).replace(/^\[|\]$/g, '');
        rules.push(
          `alert tcp $HOME_NET any -> ${ip} ${i.value.slice(colon + 1)} (msg:"deminer intel: connection to listed mining endpoint ${i.value}"; flow:to_server; classtype:coin-mining; sid:${sid(key)}; rev:1; ${meta};)`,
        );
        break;
      }
      case 'url':
        break;
    }
  }
  return `${rules.join('\n')}\n`;
}
