import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineBatches } from './batched.ts';

async function lines(chunks: string[], max?: number): Promise<{ lines: string[]; overlong: number[] }> {
  async function* gen(): AsyncGenerator<string> {
    yield* chunks;
  }
  const out = { lines: [] as string[], overlong: [] as number[] };
  let next = 1;
  for await (const b of max === undefined ? lineBatches(gen()) : lineBatches(gen(), max)) {
    assert.equal(b.firstLine, next);
    next += b.lines.length;
    out.lines.push(...b.lines);
    out.overlong.push(...b.overlong);
  }
  return out;
}

test('lines split across chunks, CRLF and a last line without a newline', async () => {
  const r = await lines(['a\r\nb', 'c\n', '', 'd', 'e', '\nf']);
  assert.deepEqual(r.lines, ['a', 'bc', 'de', 'f']);
  assert.deepEqual(r.overlong, []);
});

test('a line longer than the limit is dropped as it streams and reported by number', async () => {
  const r = await lines(['ok\n', 'x'.repeat(6), 'x'.repeat(6), 'x\nafter\n', 'y'.repeat(20)], 10);
  assert.deepEqual(r.lines, ['ok', '', 'after', '']);
  assert.deepEqual(r.overlong, [2, 4]);
});

test('a long line in many small chunks is joined once (no quadratic re-concatenation)', async () => {
  const chunks = Array.from({ length: 20_000 }, () => 'z'.repeat(50));
  chunks.push('\n');
  const t = performance.now();
  const r = await lines(chunks);
  assert.equal(r.lines[0]!.length, 1_000_000);
  // Generous bound: a quadratic join of 20,000 pieces would take seconds.
  assert.ok(performance.now() - t < 5_000);
});
