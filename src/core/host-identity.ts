import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * One host identity for every finding (DESIGN.md §4): `host.name` is the
 * agent id or host name, the same whether the finding comes from the host
 * scanner, an event log or the network. Raw addresses stay in `source.ip` /
 * `host.ip`.
 *
 * Names are compared case-insensitively and by their first label: the scanner
 * sees `office-pc-17`, the event log's Computer field `OFFICE-PC-17.corp.example`
 * and a PTR answer `office-pc-17.corp.example.`; all three are `office-pc-17`.
 * Addresses are kept as they are (IPv6 in its canonical lower-case form).
 */
export function canonicalHostName(raw: string): string {
  const t = raw.trim();
  if (t === '') return 'unknown';
  const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  if (isIP(bare) === 4) return bare;
  if (isIP(bare) === 6) return ipaddr.parse(bare).toString();
  const lower = t.toLowerCase().replace(/\.+$/, '');
  const dot = lower.indexOf('.');
  const short = dot > 0 ? lower.slice(0, dot) : lower;
  return short === '' ? 'unknown' : short;
}

export type NameSource = 'dhcp' | 'ptr' | 'asset-map' | 'agent';

/** Where a learned name beats another: an asset map or agent is authoritative, DHCP beats a PTR answer. */
const RANK: Record<NameSource, number> = { ptr: 1, dhcp: 2, 'asset-map': 3, agent: 3 };

/**
 * Names learned for addresses while reading (DHCP requests, PTR answers in
 * a capture, an asset map). Bounded: past `max` addresses the least recently
 * learned is forgotten first, and the evictions are counted.
 */
export class HostNames {
  readonly #names = new Map<string, { name: string; source: NameSource }>();
  readonly #max: number;
  evicted = 0;

  constructor(max = 100_000) {
    this.#max = max;
  }

  get size(): number {
    return this.#names.size;
  }

  learn(ip: string, name: string, source: NameSource): void {
    const canonical = canonicalHostName(name);
    if (canonical === 'unknown' || isIP(canonical) !== 0) return;
    const old = this.#names.get(ip);
    if (old && RANK[old.source] > RANK[source]) return;
    this.#names.delete(ip);
    this.#names.set(ip, { name: canonical, source });
    if (this.#names.size > this.#max) {
      const first = this.#names.keys().next().value;
      if (first !== undefined) this.#names.delete(first);
      this.evicted++;
    }
  }

  nameOf(ip: string): string | undefined {
    return this.#names.get(ip)?.name;
  }
}

/** The host a network observation belongs to: the name learned for its address, else the address. */
export function hostOfAddress(ip: string | undefined, names?: HostNames): string {
  if (ip === undefined || ip === '') return 'unknown';
  return names?.nameOf(ip) ?? canonicalHostName(ip);
}

/** The address a PTR question names (`4.3.2.1.in-addr.arpa` → `1.2.3.4`; ip6.arpa nibbles too). */
export function addressOfPtrName(name: string): string | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reverse().join('.');
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4));
    return ipaddr.parse(groups.join(':')).toString();
  }
  return undefined;
}
