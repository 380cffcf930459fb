import assert from 'node:assert/strict';
import { test } from 'node:test';
import { U32Map } from './u32-map.ts';

test('U32Map agrees with Map through inserts, growth and deletes', () => {
  const m = new U32Map();
  const ref = new Map<number, number>();
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const key = x % 5000 === 0 ? 0 : x >>> (i % 20);
    if (i % 3 === 0 && ref.size > 0) {
      const k = [...ref.keys()][i % ref.size]!;
      assert.equal(m.delete(k), true);
      ref.delete(k);
    } else {
      m.set(key, i);
      ref.set(key, i);
    }
  }
  assert.equal(m.size, ref.size);
  for (const [k, v] of ref) assert.equal(m.get(k), v);
  assert.equal(m.get(0xfffffffe), ref.get(0xfffffffe) ?? -1);
});
