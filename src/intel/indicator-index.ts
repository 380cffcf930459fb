import { DomainTable } from './domain-table.ts';
import { bytesKey, maskV4, maskWords, parseIPv4, parseIPv6, parseIPv6Words } from './ip.ts';
import { RecordStore } from './record-store.ts';
import type { Indicator, IndicatorType } from './types.ts';
import { U32Map } from './u32-map.ts';
import { V4Ranges } from './v4-ranges.ts';
import { V6Map } from './v6-map.ts';

/**
 * Indicators keyed for the lookups the engine makes: a label-suffix table
 * for domains; IPv4 addresses and CIDRs kept per prefix length while
 * loading (a /32 is just the longest prefix) and flattened into sorted
 * ranges on the first lookup; IPv6 per prefix length; IP:port and URLs.
 * Values must already be canonical (see classify.ts).
 */
export class IndicatorIndex {
  readonly records: RecordStore;
  readonly domains: DomainTable;
  private readonly v4 = new Map<number, U32Map>();
  /** Prefix lengths present, longest first, with their tables and masks side by side. */
  /** Built on the first lookup after a change. */
  private v4Flat: V4Ranges | undefined;
  private readonly v6 = new Map<number, V6Map>();
  /** Prefix lengths in use, longest first, with their tables side by side. */
  private v6Lens: number[] = [];
  private v6Tables: V6Map[] = [];
  private readonly words = new Uint32Array(4);
  private readonly masked = new Uint32Array(4);
  private readonly ipPortV4 = new U32Map();
  private readonly ipPortV6 = new Map<string, number>();
  private readonly urls = new Map<string, number>();
  readonly counts: Record<IndicatorType, number> = {
    domain: 0,
    ipv4: 0,
    ipv6: 0,
    'ipv4-cidr': 0,
    'ipv6-cidr': 0,
    'ip-port': 0,
    url: 0,
  };

  constructor(expected = 16) {
    this.domains = new DomainTable(expected);
    this.records = new RecordStore(expected);
  }

  get size(): number {
    return this.records.size;
  }

  add(ind: Indicator): void {
    switch (ind.type) {
      case 'domain': {
        const slot = this.domains.slotFor(ind.value);
        const id = this.chainAdd(this.domains.valueAt(slot), ind);
        if (id >= 0) this.domains.setValueAt(slot, id);
        return;
      }
      case 'ipv4':
      case 'ipv4-cidr': {
        const slash = ind.value.indexOf('/');
        const len = slash < 0 ? 32 : Number(ind.value.slice(slash + 1));
        const n = parseIPv4(ind.value, 0, slash < 0 ? ind.value.length : slash);
        if (n < 0) return;
        let table = this.v4.get(len);
        if (!table) {
          table = new U32Map();
          this.v4.set(len, table);
        }
        const key = (n & maskV4(len)) >>> 0;
        const id = this.chainAdd(table.get(key), ind);
        if (id >= 0) {
          table.set(key, id);
          this.v4Flat = undefined;
        }
        return;
      }
      case 'ipv6':
      case 'ipv6-cidr': {
        const [addr, len] = splitCidr(ind.value, 128);
        if (!parseIPv6Words(addr, this.words)) return;
        let table = this.v6.get(len);
        if (!table) {
          table = new V6Map();
          this.v6.set(len, table);
          this.v6Lens = [...this.v6.keys()].sort((a, b) => b - a);
          this.v6Tables = this.v6Lens.map((l) => this.v6.get(l)!);
        }
        maskWords(this.words, len, this.masked);
        const id = this.chainAdd(table.get(this.masked), ind);
        if (id >= 0) table.set(this.masked, id);
        return;
      }
      case 'ip-port': {
        const colon = ind.value.lastIndexOf(':');
        const port = Number(ind.value.slice(colon + 1));
        if (ind.value.startsWith('[')) {
          const bytes = parseIPv6(ind.value.slice(1, colon - 1));
          if (!bytes) return;
          const key = `${bytesKey(bytes)}|${port}`;
          const id = this.chainAdd(this.ipPortV6.get(key) ?? -1, ind, port);
          if (id >= 0) this.ipPortV6.set(key, id);
        } else {
          const n = parseIPv4(ind.value, 0, colon);
          if (n < 0) return;
          const id = this.chainAdd(this.ipPortV4.get(n), ind, port);
          if (id >= 0) this.ipPortV4.set(n, id);
        }
        return;
      }
      case 'url': {
        const id = this.chainAdd(this.urls.get(ind.value) ?? -1, ind);
        if (id >= 0) this.urls.set(ind.value, id);
        return;
      }
    }
  }

  /**
   * Adds `ind` to the chain starting at `head`, merging with a record of the
   * same source. Returns the new head, or -1 when the chain did not change.
   */
  private chainAdd(head: number, ind: Indicator, port = -1): number {
    const r = this.records;
    const src = r.sourceId(ind.source);
    for (let id = head; id >= 0; id = r.next.get(id)) {
      if (r.sourceIdOf(id) === src && r.portOf(id) === port && r.values[id] === ind.value) {
        r.merge(id, ind);
        return -1;
      }
    }
    const id = r.add(ind, port);
    r.next.set(id, head);
    this.counts[ind.type]++;
    return id;
  }

  /** Releases growth slack after a bulk load; the index stays usable and writable. */
  compact(): void {
    this.domains.compact();
  }

  /** Chain heads of every listed suffix of `name`, most specific first, into `out`; returns the count. */
  domainHeads(name: string, out: Int32Array): number {
    return this.domains.suffixValues(name, out);
  }

  hasDomain(name: string): boolean {
    return this.domains.hasSuffix(name);
  }

  /**
   * Which prefixes contain `ip`, as a code for `v4Heads`: -1 none, >= 0 the
   * one chain head, <= -2 several. Equal codes mean equal chains, so callers
   * may cache per code.
   */
  v4Cover(ip: number): number {
    return this.flatV4().cover(ip);
  }

  /** Chain heads of a `v4Cover` code, longest prefix first, into `out`; returns the count. */
  v4Heads(cover: number, out: Int32Array): number {
    return this.flatV4().values(cover, out);
  }

  /** Calls `fn` with the chain head of every prefix that contains `ip`, longest first. */
  eachV4(ip: number, fn: (head: number) => void): void {
    const cover = this.v4Cover(ip);
    if (cover >= 0) fn(cover);
    else if (cover < -1) {
      const n = this.v4Heads(cover, this.scratch);
      for (let i = 0; i < n; i++) fn(this.scratch[i]!);
    }
  }

  /** The chain head when exactly one prefix contains `ip`; -1 when none does, -2 when several do. */
  singleV4Head(ip: number): number {
    const cover = this.v4Cover(ip);
    return cover < -1 ? -2 : cover;
  }

  hasV4(ip: number): boolean {
    return this.v4Cover(ip) !== -1;
  }

  private readonly scratch = new Int32Array(33);

  private flatV4(): V4Ranges {
    if (!this.v4Flat) this.v4Flat = this.flattenV4();
    return this.v4Flat;
  }

  private flattenV4(): V4Ranges {
    const nets: number[] = [];
    const lens: number[] = [];
    const heads: number[] = [];
    for (const [len, table] of this.v4)
      table.forEach((net, head) => {
        nets.push(net);
        lens.push(len);
        heads.push(head);
      });
    return new V4Ranges(nets, lens, heads);
  }

  eachV6(bytes: readonly number[], fn: (head: number) => void): void {
    const w = this.words;
    for (let i = 0; i < 4; i++)
      w[i] =
        ((bytes[4 * i]! << 24) | (bytes[4 * i + 1]! << 16) | (bytes[4 * i + 2]! << 8) | bytes[4 * i + 3]!) >>>
        0;
    this.eachV6Words(w, fn);
  }

  /** Calls `fn` with the chain head of every prefix that contains the address in `words`, longest first. */
  eachV6Words(words: ArrayLike<number>, fn: (head: number) => void): void {
    const tables = this.v6Tables;
    for (let i = 0; i < tables.length; i++) {
      maskWords(words, this.v6Lens[i]!, this.masked);
      const head = tables[i]!.get(this.masked);
      if (head >= 0) fn(head);
    }
  }

  /** Chain heads of every prefix containing the address in `words`, longest first, into `out`; returns the count. */
  v6Heads(words: ArrayLike<number>, out: Int32Array): number {
    const tables = this.v6Tables;
    let n = 0;
    for (let i = 0; i < tables.length && n < out.length; i++) {
      maskWords(words, this.v6Lens[i]!, this.masked);
      const head = tables[i]!.get(this.masked);
      if (head >= 0) out[n++] = head;
    }
    return n;
  }

  hasV6Words(words: ArrayLike<number>): boolean {
    const tables = this.v6Tables;
    for (let i = 0; i < tables.length; i++) {
      maskWords(words, this.v6Lens[i]!, this.masked);
      if (tables[i]!.get(this.masked) >= 0) return true;
    }
    return false;
  }

  ipPortHeadV4(ip: number): number {
    return this.ipPortV4.get(ip);
  }

  ipPortHeadV6(bytes: readonly number[], port: number): number {
    return this.ipPortV6.get(`${bytesKey(bytes)}|${port}`) ?? -1;
  }

  urlHead(url: string): number {
    return this.urls.get(url) ?? -1;
  }
}

function splitCidr(value: string, full: number): [string, number] {
  const slash = value.indexOf('/');
  return slash < 0 ? [value, full] : [value.slice(0, slash), Number(value.slice(slash + 1))];
}
