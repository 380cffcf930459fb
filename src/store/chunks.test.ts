import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunks } from './chunks.ts';

test('chunks: full slices, then the rest in descending powers of two, every item once and in order', () => {
  const sizes = (n: number, max: number) =>
    [
      ...chunks(
        Array.from({ length: n }, (_, i) => i),
        max,
      ),
    ].map((c) => c.length);
  assert.deepEqual(sizes(0, 500), []);
  assert.deepEqual(sizes(1, 500), [1]);
  assert.deepEqual(sizes(337, 500), [256, 64, 16, 1]);
  assert.deepEqual(sizes(1337, 500), [500, 500, 256, 64, 16, 1]);
  assert.deepEqual(sizes(500, 500), [500]);
  assert.deepEqual(sizes(7, 4), [4, 2, 1]);
  for (let n = 0; n < 1200; n += 37) {
    const items = Array.from({ length: n }, (_, i) => i);
    assert.deepEqual([...chunks(items, 500)].flat(), items);
    for (const c of chunks(items, 500))
      assert.ok(c.length === 500 || (c.length & (c.length - 1)) === 0, `${c.length}`);
  }
});
