import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AhoCorasick } from './aho-corasick.ts';

test('finds every occurrence of every pattern, overlapping ones included', () => {
  const ac = new AhoCorasick(['he', 'she', 'his', 'hers', 'e']);
  const hits: [number, number][] = [];
  ac.scan('ushers', (id, start) => hits.push([id, start]));
  assert.deepEqual(
    hits.sort((a, b) => a[1] - b[1] || a[0] - b[0]),
    [
      [1, 1],
      [0, 2],
      [3, 2],
      [4, 3],
    ],
  );
});

test('agrees with indexOf on random text', () => {
  const pats = ['ab', 'bab', 'aab', 'b', 'abba'];
  const ac = new AhoCorasick(pats);
  let seed = 7;
  for (let n = 0; n < 200; n++) {
    let s = '';
    for (let i = 0; i < 20; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      s += seed % 2 ? 'a' : 'b';
    }
    const got = new Set<string>();
    ac.scan(s, (id, start) => got.add(`${id}@${start}`));
    const want = new Set<string>();
    pats.forEach((p, id) => {
      for (let i = s.indexOf(p); i >= 0; i = s.indexOf(p, i + 1)) want.add(`${id}@${i}`);
    });
    assert.deepEqual(got, want);
  }
});
