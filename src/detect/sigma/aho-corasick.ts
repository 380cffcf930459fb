/**
 * Aho–Corasick multi-pattern search: one pass over a value finds every
 * pattern in it, however many thousands of rule strings there are.
 *
 * The trie is built with a Map per state, then frozen into typed arrays: a
 * direct table for the root's ASCII transitions and one open-addressing hash
 * of (state, char) for the rest, which scans several times faster than a Map
 * lookup per character and keeps the automaton out of the garbage collector's way.
 */
const NO_CHILDREN: ReadonlyMap<number, number> = new Map();

function hashOf(state: number, c: number): number {
  const h = Math.imul(state, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b);
  return h ^ (h >>> 15);
}

export class AhoCorasick {
  readonly #root = new Int32Array(128).fill(-1);
  readonly #keyState: Int32Array;
  readonly #keyChar: Uint16Array;
  readonly #target: Int32Array;
  readonly #mask: number;
  readonly #fail: Int32Array;
  /** Pattern ids ending at state s: #outIds[#outStart[s] .. #outStart[s + 1]). */
  readonly #outStart: Int32Array;
  readonly #outIds: Int32Array;
  readonly #lengths: Int32Array;

  constructor(patterns: readonly string[]) {
    this.#lengths = Int32Array.from(patterns, (p) => p.length);
    const next: Map<number, number>[] = [new Map()];
    const fail: number[] = [0];
    const noOut: number[] = [];
    const out: number[][] = [[]];
    let edges = 0;
    patterns.forEach((p, id) => {
      if (p.length === 0) return;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let n = next[s]!.get(c);
        if (n === undefined) {
          n = next.length;
          // Most states are on one pattern's tail: they share one empty map until they get a child.
          next.push(NO_CHILDREN as Map<number, number>);
          fail.push(0);
          out.push(noOut);
          if (next[s] === NO_CHILDREN) next[s] = new Map();
          next[s]!.set(c, n);
          edges++;
        }
        s = n;
      }
      out[s] = out[s] === noOut ? [id] : [...out[s]!, id];
    });
    const queue: number[] = [];
    for (const n of next[0]!.values()) queue.push(n);
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      for (const [c, n] of next[s]!) {
        queue.push(n);
        let f = fail[s]!;
        while (f !== 0 && !next[f]!.has(c)) f = fail[f]!;
        const fn = next[f]!.get(c);
        fail[n] = fn !== undefined && fn !== n ? fn : 0;
        const inherited = out[fail[n]!]!;
        if (inherited.length) out[n] = [...out[n]!, ...inherited];
      }
    }

    let cap = 16;
    while (cap < edges * 2) cap *= 2;
    this.#mask = cap - 1;
    this.#keyState = new Int32Array(cap).fill(-1);
    this.#keyChar = new Uint16Array(cap);
    this.#target = new Int32Array(cap);
    next.forEach((m, s) => {
      for (const [c, n] of m) {
        if (s === 0 && c < 128) this.#root[c] = n;
        let h = hashOf(s, c) & this.#mask;
        while (this.#keyState[h] !== -1) h = (h + 1) & this.#mask;
        this.#keyState[h] = s;
        this.#keyChar[h] = c;
        this.#target[h] = n;
      }
    });
    this.#fail = Int32Array.from(fail);
    this.#outStart = new Int32Array(out.length + 1);
    let total = 0;
    out.forEach((o, s) => {
      this.#outStart[s] = total;
      total += o.length;
    });
    this.#outStart[out.length] = total;
    this.#outIds = new Int32Array(total);
    out.forEach((o, s) => {
      this.#outIds.set(o, this.#outStart[s]!);
    });
  }

  /** The state reached from `s` on `c`, or -1. */
  #step(s: number, c: number): number {
    if (s === 0 && c < 128) return this.#root[c]!;
    const keyState = this.#keyState;
    const mask = this.#mask;
    let h = hashOf(s, c) & mask;
    for (;;) {
      const k = keyState[h]!;
      if (k === -1) return -1;
      if (k === s && this.#keyChar[h] === c) return this.#target[h]!;
      h = (h + 1) & mask;
    }
  }

  /** Calls `hit(patternId, start)` for every occurrence; `start` is the index where it begins. */
  scan(text: string, hit: (id: number, start: number) => void): void {
    const fail = this.#fail;
    const outStart = this.#outStart;
    const outIds = this.#outIds;
    const lengths = this.#lengths;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let n = this.#step(s, c);
      while (n === -1 && s !== 0) {
        s = fail[s]!;
        n = this.#step(s, c);
      }
      s = n === -1 ? 0 : n;
      for (let k = outStart[s]!, end = outStart[s + 1]!; k < end; k++) {
        const id = outIds[k]!;
        hit(id, i + 1 - lengths[id]!);
      }
    }
  }
}
