/** mulberry32: a small seeded PRNG, for reproducible training splits and fuzzing. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates on a copy. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A byte-level mutation of `input` (flip, insert, delete, truncate or duplicate), for seeded fuzzing. */
export function mutateBytes(input: Uint8Array, random: () => number): Uint8Array {
  const b = Array.from(input);
  const n = 1 + Math.floor(random() * 4);
  for (let k = 0; k < n; k++) {
    const op = Math.floor(random() * 5);
    const i = Math.floor(random() * (b.length + 1));
    if (op === 0 && b.length > 0)
      b[i % b.length] = (b[i % b.length]! ^ (1 << Math.floor(random() * 8))) & 255;
    else if (op === 1) b.splice(i, 0, Math.floor(random() * 256));
    else if (op === 2) b.splice(i, 1 + Math.floor(random() * 8));
    else if (op === 3) b.length = Math.min(b.length, i);
    else b.splice(i, 0, ...b.slice(i, i + 1 + Math.floor(random() * 16)));
  }
  return Uint8Array.from(b);
}
