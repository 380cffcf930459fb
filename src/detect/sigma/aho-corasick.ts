/**
 * Aho–Corasick multi-pattern search: one pass over a value finds every
 * pattern in it, however many thousands of rule strings there are.
 */
const NO_CHILDREN: ReadonlyMap<number, number> = new Map();

export class AhoCorasick {
  readonly #next: Map<number, number>[] = [new Map()];
  readonly #fail: number[] = [0];
  readonly #out: number[][] = [[]];
  readonly #lengths: number[];

  constructor(patterns: readonly string[]) {
    this.#lengths = patterns.map((p) => p.length);
    const noOut: number[] = [];
    patterns.forEach((p, id) => {
      if (p.length === 0) return;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let n = this.#next[s]!.get(c);
        if (n === undefined) {
          n = this.#next.length;
          // Most states are on one pattern's tail: they share one empty map until they get a child.
          this.#next.push(NO_CHILDREN as Map<number, number>);
          this.#fail.push(0);
          this.#out.push(noOut);
          if (this.#next[s] === NO_CHILDREN) this.#next[s] = new Map();
          this.#next[s]!.set(c, n);
        }
        s = n;
      }
      this.#out[s] = this.#out[s] === noOut ? [id] : [...this.#out[s]!, id];
    });
    const queue: number[] = [];
    for (const n of this.#next[0]!.values()) queue.push(n);
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      for (const [c, n] of this.#next[s]!) {
        queue.push(n);
        let f = this.#fail[s]!;
        while (f !== 0 && !this.#next[f]!.has(c)) f = this.#fail[f]!;
        const fn = this.#next[f]!.get(c);
        this.#fail[n] = fn !== undefined && fn !== n ? fn : 0;
        const inherited = this.#out[this.#fail[n]!]!;
        if (inherited.length) this.#out[n] = [...this.#out[n]!, ...inherited];
      }
    }
  }

  /** Calls `hit(patternId, start)` for every occurrence; `start` is the index where it begins. */
  scan(text: string, hit: (id: number, start: number) => void): void {
    const next = this.#next;
    const fail = this.#fail;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let n = next[s]!.get(c);
      while (n === undefined && s !== 0) {
        s = fail[s]!;
        n = next[s]!.get(c);
      }
      s = n ?? 0;
      const out = this.#out[s]!;
      for (let k = 0; k < out.length; k++) {
        const id = out[k]!;
        hit(id, i + 1 - this.#lengths[id]!);
      }
    }
  }
}
