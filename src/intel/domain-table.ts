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
   * A one-hash Bloom filter over the last two labels of every key, about
   * 16 bits per key. Keys have at least two labels, so a name whose last
   * two labels are not in it cannot match and the walk stops before the
   * rest of the name (most misses); a false positive only costs the walk.
   * One bit read touches one cache line where a hash set took two.
   */
  private tails = new Int32Array(32);
  private tailShift = 22;
  /**
   * Slots of four int32s side by side (hash, value, key offset, key length),
   * so a probe reads one cache line, and key characters packed into one
   * buffer, so comparing a key reads no string object. Length 0 marks an
   * empty slot. A key with a character above U+00FF (never a canonical
   * name) stores -1 - its index in `names` and is compared as a string.
   */
  private slots: Int32Array;
  private chars = new Uint8Array(1 << 16);
  private charsUsed = 0;
  private mask: number;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.slots = new Int32Array(cap * 4);
    this.mask = cap - 1;
    this.resizeTails();
  }

  get size(): number {
    return this.names.length;
  }

  /** `name` must already be lower-case without a trailing dot. Returns the previous value or -1. */
  set(name: string, value: number): number {
    const slot = this.slotFor(name);
    const prev = this.valueAt(slot);
    this.setValueAt(slot, value);
    return prev;
  }

  /**
   * Slot of `name`, inserting it with value -1 when absent: one hash and one
   * probe sequence where get-then-set would take two. The slot stays valid
   * until the next insertion.
   */
  slotFor(name: string): number {
    if ((this.names.length + 1) * 2 > this.slots.length >> 2) this.grow();
    const h = hashName(name);
    let i = h & this.mask;
    const t = this.slots;
    for (;;) {
      const o = i << 2;
      if (t[o + 3] === 0) break;
      if (t[o] === h && this.keyEquals(o, name, 0, name.length)) return i;
      i = (i + 1) & this.mask;
    }
    this.names.push(name);
    this.addTail(hashName(name, name.length, tailStart(name)));
    const o = i << 2;
    t[o] = h;
    t[o + 1] = -1;
    t[o + 2] = this.charsUsed;
    t[o + 3] = this.storeKey(name);
    return i;
  }

  valueAt(slot: number): number {
    return this.slots[(slot << 2) + 1]!;
  }

  setValueAt(slot: number, value: number): void {
    this.slots[(slot << 2) + 1] = value;
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
        if (labels === 2 && !this.hasTail(h)) return 0;
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
        if (labels === 2 && !this.hasTail(h)) return false;
        if (this.probe(h, name, i, end) >= 0) return true;
      }
    }
    return false;
  }

  keys(): readonly string[] {
    return this.names;
  }

  /** Gives back the key buffer's spare room once loading is done; later inserts grow it again. */
  compact(): void {
    if (this.chars.length > this.charsUsed) this.chars = this.chars.slice(0, Math.max(16, this.charsUsed));
  }

  private probe(h: number, name: string, start: number, end: number): number {
    let i = h & this.mask;
    const t = this.slots;
    for (;;) {
      const o = i << 2;
      const len = t[o + 3]!;
      if (len === 0) return -1;
      if (t[o] === h && this.keyEquals(o, name, start, end)) return t[o + 1]!;
      i = (i + 1) & this.mask;
    }
  }

  /** Whether the key in slot offset `o` equals `name[start, end)` with A-Z folded. */
  private keyEquals(o: number, name: string, start: number, end: number): boolean {
    const len = this.slots[o + 3]!;
    if (len < 0) {
      const key = this.names[-len - 1]!;
      return key.length === end - start && sameFolded(key, name, start);
    }
    if (len !== end - start) return false;
    const chars = this.chars;
    let k = this.slots[o + 2]!;
    for (let i = start; i < end; i++, k++) {
      let c = name.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== chars[k]) return false;
    }
    return true;
  }

  /** Appends the key's characters; returns the length to store, or the string fallback. */
  private storeKey(name: string): number {
    if (name.length === 0) return -this.names.length;
    for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 255) return -this.names.length;
    if (this.charsUsed + name.length > this.chars.length) {
      let n = this.chars.length * 2;
      while (n < this.charsUsed + name.length) n *= 2;
      const grown = new Uint8Array(n);
      grown.set(this.chars.subarray(0, this.charsUsed));
      this.chars = grown;
    }
    for (let i = 0; i < name.length; i++) this.chars[this.charsUsed++] = name.charCodeAt(i);
    return name.length;
  }

  private hasTail(h: number): boolean {
    const bit = h >>> this.tailShift;
    return ((this.tails[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
  }

  private addTail(h: number): void {
    const bit = h >>> this.tailShift;
    this.tails[bit >>> 5]! |= 1 << (bit & 31);
  }

  /** Sizes the filter for the slot count (capped at 2^24 bits, 2 MB) and refills it from the keys. */
  private resizeTails(): void {
    const bits = Math.min(1 << 24, Math.max(1024, (this.slots.length >> 2) * 8));
    if (bits >>> 5 === this.tails.length) return;
    this.tails = new Int32Array(bits >>> 5);
    this.tailShift = 32 - Math.log2(bits);
    for (const name of this.names) this.addTail(hashName(name, name.length, tailStart(name)));
  }

  private grow(): void {
    const old = this.slots;
    const cap = (old.length >> 2) * 2;
    this.slots = new Int32Array(cap * 4);
    this.mask = cap - 1;
    for (let o = 0; o < old.length; o += 4) {
      if (old[o + 3] === 0) continue;
      let i = old[o]! & this.mask;
      while (this.slots[(i << 2) + 3] !== 0) i = (i + 1) & this.mask;
      this.slots.set(old.subarray(o, o + 4), i << 2);
    }
    this.resizeTails();
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
