/**
 * Open-addressing hash map from 128-bit keys (four 32-bit words) to
 * non-negative int32 values: IPv6 lookups probe it with the words of a
 * parsed address and allocate nothing, where string keys built one per
 * lookup did.
 */
export class V6Map {
  private keys: Uint32Array;
  private vals: Int32Array;
  private mask: number;
  size = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Uint32Array(cap * 4);
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  get(k: ArrayLike<number>): number {
    const a = k[0]!;
    const b = k[1]!;
    const c = k[2]!;
    const d = k[3]!;
    let i = hash4(a, b, c, d);
    for (;;) {
      i &= this.mask;
      const v = this.vals[i]!;
      if (v < 0) return -1;
      const o = i * 4;
      if (this.keys[o] === a && this.keys[o + 1] === b && this.keys[o + 2] === c && this.keys[o + 3] === d)
        return v;
      i++;
    }
  }

  set(k: ArrayLike<number>, value: number): void {
    if ((this.size + 1) * 2 > this.vals.length) this.grow();
    this.put(k[0]! >>> 0, k[1]! >>> 0, k[2]! >>> 0, k[3]! >>> 0, value);
  }

  private put(a: number, b: number, c: number, d: number, value: number): void {
    let i = hash4(a, b, c, d);
    for (;;) {
      i &= this.mask;
      const o = i * 4;
      if (this.vals[i]! < 0) {
        this.keys[o] = a;
        this.keys[o + 1] = b;
        this.keys[o + 2] = c;
        this.keys[o + 3] = d;
        this.vals[i] = value;
        this.size++;
        return;
      }
      if (this.keys[o] === a && this.keys[o + 1] === b && this.keys[o + 2] === c && this.keys[o + 3] === d) {
        this.vals[i] = value;
        return;
      }
      i++;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const cap = oldVals.length * 2;
    this.keys = new Uint32Array(cap * 4);
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < oldVals.length; i++)
      if (oldVals[i]! >= 0)
        this.put(oldKeys[i * 4]!, oldKeys[i * 4 + 1]!, oldKeys[i * 4 + 2]!, oldKeys[i * 4 + 3]!, oldVals[i]!);
  }
}

/** Mixes all four words: prefixes shorter than /64 leave the low words zero. */
function hash4(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
