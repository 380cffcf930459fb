import type { Indicator, IndicatorType, IntelMatch } from './types.ts';
import { INDICATOR_TYPES } from './types.ts';

/**
 * Column store of indicator records: one million records cost a few dozen
 * bytes each instead of an object apiece, and records sharing a lookup key
 * are chained through `next`.
 */
const TYPE_INDEX = Object.fromEntries(INDICATOR_TYPES.map((t, i) => [t, i])) as Record<IndicatorType, number>;

export class RecordStore {
  readonly values: string[] = [];
  private types: Uint8Array;
  private sources: Uint16Array;
  private confidences: Uint8Array;
  private firstSeen: Float64Array;
  private lastSeen: Float64Array;
  private expiry: Float64Array;
  /** Port of ip-port records, -1 otherwise. */
  private ports: Int32Array;
  readonly next: ChainArray;
  private readonly matchCache = new Map<number, IntelMatch>();
  private readonly sourceNames: string[] = [];
  private readonly sourceIds = new Map<string, number>();

  constructor(expected = 1024) {
    const n = Math.max(16, expected);
    this.types = new Uint8Array(n);
    this.sources = new Uint16Array(n);
    this.confidences = new Uint8Array(n);
    this.firstSeen = new Float64Array(n);
    this.lastSeen = new Float64Array(n);
    this.expiry = new Float64Array(n);
    this.ports = new Int32Array(n);
    this.next = new ChainArray(n);
  }

  get size(): number {
    return this.values.length;
  }

  add(ind: Indicator, port = -1): number {
    const id = this.values.length;
    if (id === this.types.length) this.grow();
    this.values.push(ind.value);
    this.types[id] = TYPE_INDEX[ind.type];
    this.sources[id] = this.sourceId(ind.source);
    this.confidences[id] = Math.max(0, Math.min(100, Math.round(ind.confidence)));
    this.firstSeen[id] = ind.firstSeen ?? 0;
    this.lastSeen[id] = ind.lastSeen ?? 0;
    this.expiry[id] = ind.expires ?? 0;
    this.ports[id] = port;
    this.next.set(id, -1);
    return id;
  }

  /** Same key and source seen again: keep the higher confidence and the wider time span. */
  merge(id: number, ind: Indicator): void {
    this.matchCache.delete(id);
    this.confidences[id] = Math.max(this.confidences[id]!, Math.round(ind.confidence));
    const fs = ind.firstSeen ?? 0;
    if (fs && (!this.firstSeen[id] || fs < this.firstSeen[id]!)) this.firstSeen[id] = fs;
    const ls = ind.lastSeen ?? 0;
    if (ls > this.lastSeen[id]!) this.lastSeen[id] = ls;
    const ex = ind.expires ?? 0;
    if (this.expiry[id] !== 0) this.expiry[id] = ex === 0 ? 0 : Math.max(ex, this.expiry[id]!);
  }

  sourceOf(id: number): string {
    return this.sourceNames[this.sources[id]!]!;
  }

  sourceIdOf(id: number): number {
    return this.sources[id]!;
  }

  sourceId(name: string): number {
    let s = this.sourceIds.get(name);
    if (s === undefined) {
      s = this.sourceNames.length;
      this.sourceNames.push(name);
      this.sourceIds.set(name, s);
    }
    return s;
  }

  typeOf(id: number): IndicatorType {
    return INDICATOR_TYPES[this.types[id]!]!;
  }

  portOf(id: number): number {
    return this.ports[id]!;
  }

  expiresAt(id: number): number {
    return this.expiry[id]!;
  }

  isLive(id: number, now: number): boolean {
    const e = this.expiry[id]!;
    return e === 0 || e > now;
  }

  /** Frozen and cached per record: repeated hits on a pool allocate no new match objects. */
  toMatch(id: number): IntelMatch {
    const cached = this.matchCache.get(id);
    if (cached) return cached;
    const m: IntelMatch = {
      indicator: this.values[id]!,
      type: this.typeOf(id),
      source: this.sourceOf(id),
      confidence: this.confidences[id]!,
    };
    if (this.firstSeen[id]) m.firstSeen = new Date(this.firstSeen[id]!).toISOString();
    if (this.lastSeen[id]) m.lastSeen = new Date(this.lastSeen[id]!).toISOString();
    if (this.expiry[id]) m.expires = new Date(this.expiry[id]!).toISOString();
    this.matchCache.set(id, Object.freeze(m));
    return m;
  }

  toIndicator(id: number): Indicator {
    const ind: Indicator = {
      value: this.values[id]!,
      type: this.typeOf(id),
      source: this.sourceOf(id),
      confidence: this.confidences[id]!,
    };
    if (this.firstSeen[id]) ind.firstSeen = this.firstSeen[id]!;
    if (this.lastSeen[id]) ind.lastSeen = this.lastSeen[id]!;
    if (this.expiry[id]) ind.expires = this.expiry[id]!;
    return ind;
  }

  private grow(): void {
    const n = this.types.length * 2;
    this.types = growTo(this.types, new Uint8Array(n));
    this.sources = growTo(this.sources, new Uint16Array(n));
    this.confidences = growTo(this.confidences, new Uint8Array(n));
    this.firstSeen = growTo(this.firstSeen, new Float64Array(n));
    this.lastSeen = growTo(this.lastSeen, new Float64Array(n));
    this.expiry = growTo(this.expiry, new Float64Array(n));
    this.ports = growTo(this.ports, new Int32Array(n));
  }
}

function growTo<T extends { set(a: T): void }>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** A growable Int32Array. */
export class ChainArray {
  private a: Int32Array;
  constructor(n = 1024) {
    this.a = new Int32Array(n);
  }
  get(i: number): number {
    return this.a[i]!;
  }
  set(i: number, v: number): void {
    if (i >= this.a.length) {
      let n = this.a.length * 2;
      while (n <= i) n *= 2;
      const b = new Int32Array(n);
      b.set(this.a);
      this.a = b;
    }
    this.a[i] = v;
  }
}
