/**
 * A character trigram model of benign labels: log2 P(c | a b) for every
 * (a, b, c) over the 40-symbol alphabet of `features.ts`, Dirichlet-smoothed
 * down to bigrams and unigrams so unseen trigrams get a small, graded
 * probability. DGA names from families the classifier never saw still read
 * as improbable text under it, which is what generalises across families.
 */
export const LM_ALPHABET = 40;
export const LM_SIZE = LM_ALPHABET * LM_ALPHABET * LM_ALPHABET;
const BETA = 2;

/** `sequences` are symbol codes with the boundary (0) at both ends. */
export function trainCharLm(sequences: Iterable<Uint8Array>): Float32Array {
  const A = LM_ALPHABET;
  const c1 = new Float64Array(A);
  const c2 = new Float64Array(A * A);
  const c3 = new Float64Array(A * A * A);
  let total = 0;
  for (const s of sequences) {
    for (let j = 1; j < s.length; j++) {
      const a = j >= 2 ? s[j - 2]! : 0;
      const b = s[j - 1]!;
      const c = s[j]!;
      c1[c]!++;
      c2[b * A + c]!++;
      c3[(a * A + b) * A + c]!++;
      total++;
    }
  }
  const ctx1 = new Float64Array(A);
  for (let b = 0; b < A; b++) for (let c = 0; c < A; c++) ctx1[b] = ctx1[b]! + c2[b * A + c]!;
  const ctx2 = new Float64Array(A * A);
  for (let ab = 0; ab < A * A; ab++) for (let c = 0; c < A; c++) ctx2[ab] = ctx2[ab]! + c3[ab * A + c]!;
  const out = new Float32Array(LM_SIZE);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < A; b++) {
      const ab = a * A + b;
      for (let c = 0; c < A; c++) {
        const p1 = (c1[c]! + 1) / (total + A);
        const p2 = (c2[b * A + c]! + BETA * p1) / (ctx1[b]! + BETA);
        const p3 = (c3[ab * A + c]! + BETA * p2) / (ctx2[ab]! + BETA);
        out[ab * A + c] = Math.log2(p3);
      }
    }
  }
  return out;
}
