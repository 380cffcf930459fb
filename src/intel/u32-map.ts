/**
 * Open-addressing hash map from unsigned 32-bit keys to non-negative int32
 * values (record ids). Typed arrays keep a million keys in a few megabytes
 * and lookups allocate nothing.
 */
export class U32Map {
  private keys: Uint32Array;
  private vals: Int32Array;
  private mask: number;
  /** 32 minus log2(capacity): the hash takes the product's high bits. */
  private shift: number;
  size = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
  }

  /**
   * Fibonacci hashing keeps the product's high bits: the low bits of
   * `key * odd` depend only on the key's low bits, and CIDR network
   * addresses have all-zero low bits, which piled every /24 onto a
   * handful of slots.
   */
  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  get(key: number): number {
    let i = this.home(key);
    for (;;) {
      i &= this.mask;
      const v = this.vals[i]!;
      if (v < 0) return -1;
      if (this.keys[i] === key) return v;
      i++;
    }
  }

  set(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let i = this.home(key);
    for (;;) {
      i &= this.mask;
      if (this.vals[i]! < 0) {
        this.keys[i] = key;
        this.vals[i] = value;
        this.size++;
        return;
      }
      if (this.keys[i] === key) {
        this.vals[i] = value;
        return;
      }
      i++;
    }
  }

  /** Backward-shift deletion keeps probe chains intact without tombstones. */
  delete(key: number): boolean {
    let i = this.home(key);
    for (;;) {
      i &= this.mask;
      if (this.vals[i]! < 0) return false;
      if (this.keys[i] === key) break;
      i++;
    }
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.vals[j]! < 0) break;
      const home = this.home(this.keys[j]!);
      // Move j into the hole when its home slot is not cyclically between hole and j.
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        this.keys[hole] = this.keys[j]!;
        this.vals[hole] = this.vals[j]!;
        hole = j;
      }
    }
    this.vals[hole] = -1;
    this.size--;
    return true;
  }

  forEach(fn: (key: number, value: number) => void): void {
    for (let i = 0; i < this.vals.length; i++) if (this.vals[i]! >= 0) fn(this.keys[i]!, this.vals[i]!);
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Uint32Array(oldKeys.length * 2);
    this.vals = new Int32Array(oldKeys.length * 2).fill(-1);
    this.mask = this.keys.length - 1;
    this.shift = 32 - Math.log2(this.keys.length);
    this.size = 0;
    for (let i = 0; i < oldVals.length; i++) if (oldVals[i]! >= 0) this.set(oldKeys[i]!, oldVals[i]!);
  }
}
