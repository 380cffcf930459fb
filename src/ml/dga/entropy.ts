/**
 * Shannon entropy in bits per character: the incident brief's baseline rule
 * (`> 3.8` means DGA), the reference the classifier is measured against in
 * scripts/dga/evaluate.ts and bench/dga/score.ts. The classifier itself
 * computes a label's entropy inside its feature pass (features.ts), so this
 * is the project's only entropy function.
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
