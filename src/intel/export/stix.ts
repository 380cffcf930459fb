import { createHash } from 'node:crypto';
import type { Indicator } from '../types.ts';

/** Deterministic UUID (version 5 layout over SHA-256) so re-exports keep object ids stable. */
function stableUuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function pattern(i: Indicator): string | undefined {
  const q = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  switch (i.type) {
    case 'domain':
      return `[domain-name:value = ${q(i.value)}]`;
    case 'ipv4':
    case 'ipv4-cidr':
      return `[ipv4-addr:value = ${q(i.value)}]`;
    case 'ipv6':
    case 'ipv6-cidr':
      return `[ipv6-addr:value = ${q(i.value)}]`;
    case 'url':
      return `[url:value = ${q(i.value)}]`;
    case 'ip-port': {
      const colon = i.value.lastIndexOf(':');
      const ip = i.value.slice(0, colon).replace(/^\[|\]$/g, '');
      const kind = ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr';
      return `[network-traffic:dst_ref.type = '${kind}' AND network-traffic:dst_ref.value = ${q(ip)} AND network-traffic:dst_port = ${i.value.slice(colon + 1)}]`;
    }
  }
}

/** A STIX 2.1 bundle with one indicator per listed value, for TIPs and SIEMs. */
export function toStix(indicators: Iterable<Indicator>, now = Date.now()): string {
  const created = new Date(now).toISOString();
  const identity = `identity--${stableUuid('deminer')}`;
  const objects: Record<string, unknown>[] = [
    {
      type: 'identity',
      spec_version: '2.1',
      id: identity,
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      name: 'deminer',
      identity_class: 'system',
    },
  ];
  const seen = new Set<string>();
  for (const i of indicators) {
    const p = pattern(i);
    const key = `${i.type}|${i.value}`;
    if (!p || seen.has(key)) continue;
    seen.add(key);
    const o: Record<string, unknown> = {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${stableUuid(key)}`,
      created_by_ref: identity,
      created,
      modified: created,
      name: `Mining pool ${i.type} ${i.value}`,
      indicator_types: ['malicious-activity'],
      pattern: p,
      pattern_type: 'stix',
      valid_from: new Date(i.firstSeen || now).toISOString(),
      confidence: i.confidence,
      labels: [`source:${i.source}`, 'cryptomining'],
    };
    if (i.expires) o.valid_until = new Date(i.expires).toISOString();
    objects.push(o);
  }
  return `${JSON.stringify({ type: 'bundle', id: `bundle--${stableUuid(`bundle|${created}`)}`, objects }, null, 1)}\n`;
}
