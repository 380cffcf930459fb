/**
 * Shannon entropy in bits per character: the incident brief's baseline
 * (`> 3.8` means DGA), kept for side-by-side evaluation and benchmarks.
 */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  // ASCII in a typed array (the common case, and fast enough to be a fair baseline); the rest in a map.
  counts.fill(0);
  let other: Map<number, number> | undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) counts[c]!++;
    else {
      other ??= new Map();
      other.set(c, (other.get(c) ?? 0) + 1);
    }
  }
  let h = 0;
  for (let c = 0; c < 128; c++) {
    const k = counts[c]!;
    if (k > 0) h -= (k / n) * Math.log2(k / n);
  }
  if (other) for (const k of other.values()) h -= (k / n) * Math.log2(k / n);
  return h;
}

const counts = new Uint32Array(128);

export const ENTROPY_BASELINE_THRESHOLD = 3.8;
