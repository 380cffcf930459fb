/**
 * IPv4 prefixes flattened into sorted disjoint ranges. Prefixes either nest
 * or do not overlap, so every address falls in one elementary range whose
 * covering prefixes are a fixed chain; a lookup is a directory step on the
 * top 16 bits plus a short binary search, whatever the number of prefix
 * lengths in use, and allocates nothing.
 */
export class V4Ranges {
  /** Start address of every range, ascending; a range ends where the next one starts. */
  private readonly starts: Uint32Array;
  /** Cover of each range: -1 none, >= 0 one prefix's value, <= -2 an entry in `multi`. */
  private readonly covers: Int32Array;
  /** For every /16, the first range starting at or after it (65,537 entries). */
  private readonly dir: Uint32Array;
  /** Nested covers, most specific first: `multiStart[k]` .. `multiStart[k + 1]` index `multiValues`. */
  private readonly multiStart: Int32Array;
  private readonly multiValues: Int32Array;

  /** `nets[i]/lens[i]` holds `values[i]` (>= 0); nets must already be masked and pairs unique. */
  constructor(nets: ArrayLike<number>, lens: ArrayLike<number>, values: ArrayLike<number>) {
    const n = nets.length;
    const order = Array.from({ length: n }, (_, i) => i);
    // Wider prefixes first at the same start, so they open before what they contain.
    order.sort((a, b) => (nets[a]! >>> 0) - (nets[b]! >>> 0) || lens[a]! - lens[b]!);
    const starts: number[] = [];
    const covers: number[] = [];
    const multiStart: number[] = [0];
    const multiValues: number[] = [];
    // Open prefixes, outermost first, with the cover id in force inside each.
    const stackEnd: number[] = [];
    const stackCover: number[] = [];
    const emit = (start: number, cover: number) => {
      if (starts.length > 0 && starts[starts.length - 1] === start) covers[covers.length - 1] = cover;
      else if (covers.length === 0 ? cover !== -1 : covers[covers.length - 1] !== cover) {
        starts.push(start);
        covers.push(cover);
      }
    };
    const top = () => (stackCover.length > 0 ? stackCover[stackCover.length - 1]! : -1);
    const closeUntil = (pos: number) => {
      while (stackEnd.length > 0 && stackEnd[stackEnd.length - 1]! < pos) {
        const end = stackEnd.pop()!;
        stackCover.pop();
        if (end < 0xffffffff) emit(end + 1, top());
      }
    };
    for (const i of order) {
      const net = nets[i]! >>> 0;
      const size = 2 ** (32 - lens[i]!);
      closeUntil(net);
      let cover: number;
      if (stackCover.length === 0) cover = values[i]!;
      else {
        // The chain for this prefix: itself, then what encloses it.
        multiValues.push(values[i]!);
        const outer = top();
        if (outer >= 0) multiValues.push(outer);
        else
          for (let k = multiStart[-outer - 2]!; k < multiStart[-outer - 1]!; k++)
            multiValues.push(multiValues[k]!);
        cover = -(multiStart.length - 1) - 2;
        multiStart.push(multiValues.length);
      }
      emit(net, cover);
      stackEnd.push(net + size - 1);
      stackCover.push(cover);
    }
    closeUntil(2 ** 32);
    this.starts = Uint32Array.from(starts);
    this.covers = Int32Array.from(covers);
    this.multiStart = Int32Array.from(multiStart);
    this.multiValues = Int32Array.from(multiValues);
    this.dir = new Uint32Array(65_537);
    let r = 0;
    for (let b = 0; b < 65_536; b++) {
      while (r < starts.length && starts[r]! < b * 65_536) r++;
      this.dir[b] = r;
    }
    this.dir[65_536] = starts.length;
  }

  get ranges(): number {
    return this.starts.length;
  }

  /** Cover code of the range holding `ip` (see `covers`). */
  cover(ip: number): number {
    const b = ip >>> 16;
    // Last range starting at or before ip: search this /16's ranges, else the one before them.
    let lo = this.dir[b]!;
    let hi = this.dir[b + 1]!;
    const starts = this.starts;
    const x = ip >>> 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? -1 : this.covers[lo - 1]!;
  }

  /** Values of a cover code, most specific first, into `out`; returns the count. */
  values(cover: number, out: Int32Array): number {
    if (cover === -1) return 0;
    if (cover >= 0) {
      out[0] = cover;
      return 1;
    }
    const k = -cover - 2;
    let n = 0;
    for (let i = this.multiStart[k]!; i < this.multiStart[k + 1]! && n < out.length; i++)
      out[n++] = this.multiValues[i]!;
    return n;
  }
}
