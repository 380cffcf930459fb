/**
 * Cuts a list into slices for multi-row statements: as many of `max` as fit,
 * then the rest as descending powers of two (337 → 256, 64, 16, 1). A
 * statement's text depends on its row count, and the engines keep compiled
 * statements by text (sqlite.ts; PostgreSQL plans its own way): a handful of
 * fixed sizes recur batch after batch, where an exact remainder would give a
 * new text, compiled once and never met again, for most batches.
 */
export function* chunks<T>(items: readonly T[], max: number): Generator<T[]> {
  let i = 0;
  while (items.length - i >= max) {
    yield items.slice(i, i + max);
    i += max;
  }
  for (let size = 2 ** Math.floor(Math.log2(Math.max(1, max))); size >= 1 && i < items.length; size >>= 1) {
    if (items.length - i >= size) {
      yield items.slice(i, i + size);
      i += size;
    }
  }
}
