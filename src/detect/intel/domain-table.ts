import { U32Map } from './u32-map.ts';

/**
 * Hashed label-suffix map. A name is looked up by walking it from the right:
 * the hash of every suffix that starts at a label boundary is extended one
 * character at a time and probed, so `a.b.pool.example` costs one pass over
 * its characters plus one probe per label, and allocates nothing. Case is
 * folded on the fly; a trailing root dot is ignored.
 */
export class DomainTable {
  private names: string[] = [];
  /**
   * Hashes of the last two labels of every key. Keys have at least two
   * labels, so a name whose last two labels are not here cannot match, and
   * the walk stops before the rest of the name (most misses).
   */
  private readonly tails = new U32Map();
  private hashes: Int32Array;
  private slots: Int32Array;
  private vals: Int32Array;
  private mask: number;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.hashes = new Int32Array(cap);
    this.slots = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.names.length;
  }

  /** `name` must already be lower-case without a trailing dot. Returns the previous value or -1. */
  set(name: string, value: number): number {
    if ((this.names.length + 1) * 2 > this.slots.length) this.grow();
    const h = hashName(name);
    let i = h & this.mask;
    for (;;) {
      const s = this.slots[i]!;
      if (s === 0) break;
      if (this.hashes[i] === h && this.names[s - 1] === name) {
        const prev = this.vals[i]!;
        this.vals[i] = value;
        return prev;
      }
      i = (i + 1) & this.mask;
    }
    this.names.push(name);
    this.tails.set(hashName(name, name.length, tailStart(name)) >>> 0, 1);
    this.slots[i] = this.names.length;
    this.hashes[i] = h;
    this.vals[i] = value;
    return -1;
  }

  /**
   * Slot of `name`, inserting it with value -1 when absent: one hash and one
   * probe sequence where get-then-set would take two. The slot stays valid
   * until the next insertion.
   */
  slotFor(name: string): number {
    if ((this.names.length + 1) * 2 > this.slots.length) this.grow();
    const h = hashName(name);
    let i = h & this.mask;
    for (;;) {
      const s = this.slots[i]!;
      if (s === 0) break;
      if (this.hashes[i] === h && this.names[s - 1] === name) return i;
      i = (i + 1) & this.mask;
    }
    this.names.push(name);
    this.tails.set(hashName(name, name.length, tailStart(name)) >>> 0, 1);
    this.slots[i] = this.names.length;
    this.hashes[i] = h;
    this.vals[i] = -1;
    return i;
  }

  valueAt(slot: number): number {
    return this.vals[slot]!;
  }

  setValueAt(slot: number, value: number): void {
    this.vals[slot] = value;
  }

  get(name: string): number {
    let end = name.length;
    if (end > 0 && name.charCodeAt(end - 1) === 46) end--;
    const h = hashName(name, end);
    return this.probe(h, name, 0, end);
  }

  /**
   * Writes the values of every listed suffix of `name` into `out`, most
   * specific first, and returns how many; allocates nothing.
   */
  suffixValues(name: string, out: Int32Array): number {
    if (this.names.length === 0) return 0;
    let end = name.length;
    if (end > 0 && name.charCodeAt(end - 1) === 46) end--;
    let h = FNV_OFFSET;
    let n = 0;
    let labels = 0;
    for (let i = end - 1; i >= 0 && n < out.length; i--) {
      let c = name.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, FNV_PRIME);
      if (i === 0 || name.charCodeAt(i - 1) === 46) {
        if (++labels < 2) continue;
        if (labels === 2 && this.tails.get(h >>> 0) < 0) return 0;
        const v = this.probe(h, name, i, end);
        if (v >= 0) out[n++] = v;
      }
    }
    // Found shortest first; reverse so the most specific comes first.
    for (let a = 0, b = n - 1; a < b; a++, b--) {
      const t = out[a]!;
      out[a] = out[b]!;
      out[b] = t;
    }
    return n;
  }

  /** True when the name or one of its parents is in the table; allocates nothing. */
  hasSuffix(name: string): boolean {
    if (this.names.length === 0) return false;
    let end = name.length;
    if (end > 0 && name.charCodeAt(end - 1) === 46) end--;
    let h = FNV_OFFSET;
    let labels = 0;
    for (let i = end - 1; i >= 0; i--) {
      let c = name.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      h = Math.imul(h ^ c, FNV_PRIME);
      if (i === 0 || name.charCodeAt(i - 1) === 46) {
        if (++labels < 2) continue;
        if (labels === 2 && this.tails.get(h >>> 0) < 0) return false;
        if (this.probe(h, name, i, end) >= 0) return true;
      }
    }
    return false;
  }

  keys(): readonly string[] {
    return this.names;
  }

  private probe(h: number, name: string, start: number, end: number): number {
    let i = h & this.mask;
    const len = end - start;
    for (;;) {
      const s = this.slots[i]!;
      if (s === 0) return -1;
      if (this.hashes[i] === h) {
        const key = this.names[s - 1]!;
        if (key.length === len && sameFolded(key, name, start)) return this.vals[i]!;
      }
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const cap = this.slots.length * 2;
    const oldSlots = this.slots;
    const oldHashes = this.hashes;
    const oldVals = this.vals;
    this.slots = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldSlots.length; j++) {
      const s = oldSlots[j]!;
      if (s === 0) continue;
      let i = oldHashes[j]! & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = s;
      this.hashes[i] = oldHashes[j]!;
      this.vals[i] = oldVals[j]!;
    }
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the characters from the right, case-folded: the walk in `suffixValues` reproduces it. */
export function hashName(name: string, end = name.length, start = 0): number {
  let h = FNV_OFFSET;
  for (let i = end - 1; i >= start; i--) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h;
}

/** Start of the last two labels of a lower-case key. */
function tailStart(name: string): number {
  const last = name.lastIndexOf('.');
  return last <= 0 ? 0 : name.lastIndexOf('.', last - 1) + 1;
}

function sameFolded(key: string, name: string, start: number): boolean {
  for (let i = 0; i < key.length; i++) {
    let c = name.charCodeAt(start + i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== key.charCodeAt(i)) return false;
  }
  return true;
}
