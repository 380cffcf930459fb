import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskV4 } from './ip.ts';
import { V4Ranges } from './v4-ranges.ts';

test('V4Ranges reports every containing prefix, longest first, like a linear scan', () => {
  let x = 7;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  const seen = new Set<string>();
  const nets: number[] = [];
  const lens: number[] = [];
  // Nested prefixes inside a few /8s, plus the edges of the address space.
  const add = (net: number, len: number) => {
    const m = (net & maskV4(len)) >>> 0;
    if (seen.has(`${m}/${len}`)) return;
    seen.add(`${m}/${len}`);
    nets.push(m);
    lens.push(len);
  };
  add(0, 1);
  add(0xffffffff, 32);
  add(0, 32);
  add(0x80000000, 1);
  for (let i = 0; i < 3000; i++) add(((rnd() % 4) << 24) | (rnd() & 0xffffff), 8 + (rnd() % 25));
  const values = nets.map((_, i) => i);
  const r = new V4Ranges(nets, lens, values);
  const out = new Int32Array(40);
  const probe = (ip: number) => {
    const want = values
      .filter((i) => (ip & maskV4(lens[i]!)) >>> 0 === nets[i])
      .sort((a, b) => lens[b]! - lens[a]!);
    const n = r.values(r.cover(ip), out);
    assert.deepEqual([...out.subarray(0, n)], want, `ip ${ip}`);
  };
  for (let i = 0; i < 3000; i++) probe(((rnd() % 5) << 24) | (rnd() & 0xffffff));
  for (let i = 0; i < nets.length; i += 7) {
    probe(nets[i]!);
    probe((nets[i]! + 2 ** (32 - lens[i]!) - 1) >>> 0);
    probe((nets[i]! + 2 ** (32 - lens[i]!)) >>> 0);
    probe((nets[i]! - 1) >>> 0);
  }
  probe(0);
  probe(0xffffffff);
});

test('V4Ranges with no prefixes matches nothing', () => {
  const r = new V4Ranges([], [], []);
  assert.equal(r.cover(0), -1);
  assert.equal(r.cover(0xffffffff), -1);
});
