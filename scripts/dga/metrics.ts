// ROC figures for the evaluation script.

/** Area under the ROC curve (ties count half), by rank sums. */
export function auc(positives: readonly number[], negatives: readonly number[]): number {
  const all = [...positives.map((s) => ({ s, p: 1 })), ...negatives.map((s) => ({ s, p: 0 }))].sort(
    (a, b) => a.s - b.s,
  );
  let rankSum = 0;
  let i = 0;
  while (i < all.length) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.s === all[i]!.s) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if (all[k]!.p === 1) rankSum += rank;
    i = j + 1;
  }
  const np = positives.length;
  const nn = negatives.length;
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}

/**
 * Best true-positive rate among thresholds whose false-positive rate on
 * `negatives` is at most `maxFpr` (flag when score > threshold).
 */
export function tprAtFpr(positives: readonly number[], negatives: readonly number[], maxFpr: number): number {
  const neg = [...negatives].sort((a, b) => b - a);
  const allowed = Math.floor(neg.length * maxFpr);
  const threshold = neg[allowed] ?? Number.NEGATIVE_INFINITY;
  return rate(positives, (s) => s > threshold);
}

export function rate(values: readonly number[], pick: (v: number) => boolean): number {
  if (values.length === 0) return 0;
  let k = 0;
  for (const v of values) if (pick(v)) k++;
  return k / values.length;
}

export function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)} %`;
}
