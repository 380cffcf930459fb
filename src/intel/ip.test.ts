import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskWords, parseIPv6, parseIPv6Words, wordsToBytes } from './ip.ts';

test('parseIPv6Words agrees with parseIPv6 on valid, odd and random text', () => {
  const w = new Uint32Array(4);
  const cases = [
    '::',
    '::1',
    '1::',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '::ffff:192.0.2.1',
    '::192.0.2.1',
    '2001:db8::1%eth0',
    '2001:DB8::A',
    '012345::',
    ':::',
    '1:::2',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    ':1::',
    '1:',
    '',
    '192.0.2.1',
  ];
  let x = 3;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  const alphabet = '0123456789abcdef:.:';
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    for (let k = rnd() % 20; k > 0; k--) s += alphabet[rnd() % alphabet.length];
    cases.push(s);
  }
  for (let i = 0; i < 5_000; i++) {
    const g: string[] = [];
    for (let k = 0; k < 8; k++) g.push((rnd() % 3 === 0 ? 0 : rnd() & 0xffff).toString(16));
    const s = g.join(':');
    cases.push(rnd() % 2 ? s.replace(/(^|:)0(:0)+(:|$)/, '::') : s);
  }
  for (const c of cases) {
    const bytes = parseIPv6(c);
    assert.equal(parseIPv6Words(c, w), bytes !== undefined, c);
    if (bytes) assert.deepEqual(wordsToBytes(w), bytes, c);
  }
});

test('maskWords clears the bits after the prefix', () => {
  const out = new Uint32Array(4);
  const w = [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff];
  maskWords(w, 48, out);
  assert.deepEqual([...out], [0xffffffff, 0xffff0000, 0, 0]);
  maskWords(w, 0, out);
  assert.deepEqual([...out], [0, 0, 0, 0]);
  maskWords(w, 128, out);
  assert.deepEqual([...out], w);
  maskWords(w, 97, out);
  assert.deepEqual([...out], [0xffffffff, 0xffffffff, 0xffffffff, 0x80000000]);
});
