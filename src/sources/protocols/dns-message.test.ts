import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDnsMessage } from './dns-message.ts';

function msg(body: number[], qd = 1, an = 0): Uint8Array {
  return new Uint8Array([0x12, 0x34, 0x81, 0x80, 0, qd, 0, an, 0, 0, 0, 0, ...body]);
}

test('question and compressed answers', () => {
  const m = parseDnsMessage(
    msg(
      [
        4, 112, 111, 111, 108, 7, 101, 120, 97, 109, 112, 108, 101, 3, 111, 114, 103, 0, 0, 1, 0, 1, 0xc0, 12,
        0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7,
      ],
      1,
      1,
    ),
    0,
    50,
  );
  assert.ok(!('error' in m));
  assert.deepEqual(m.questions, [{ name: 'pool.example.org', type: 'A' }]);
  assert.deepEqual(m.answers, [{ name: 'pool.example.org', type: 'A', data: '192.0.2.7', ttl: 60 }]);
  assert.equal(m.response, true);
});

test('pointer loops, forward pointers and over-long names are errors, never hangs', () => {
  // A pointer to itself.
  assert.deepEqual(parseDnsMessage(msg([0xc0, 12, 0, 1, 0, 1]), 0, 18), { error: 'DNS_POINTER_LOOP' });
  // Two labels pointing at each other.
  assert.deepEqual(parseDnsMessage(msg([1, 97, 0xc0, 16, 1, 98, 0xc0, 12]), 0, 20), {
    error: 'DNS_POINTER_LOOP',
  });
  const long: number[] = [];
  for (let i = 0; i < 5; i++) long.push(63, ...new Array<number>(63).fill(97));
  long.push(0, 0, 1, 0, 1);
  assert.deepEqual(parseDnsMessage(msg(long), 0, 12 + long.length), { error: 'DNS_NAME_TOO_LONG' });
  assert.deepEqual(parseDnsMessage(msg([3, 97, 98]), 0, 15), { error: 'DNS_TRUNCATED' });
  assert.deepEqual(parseDnsMessage(new Uint8Array(5), 0, 5), { error: 'DNS_SHORT' });
});

test('seeded random bytes never throw', () => {
  let s = 7;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  };
  for (let i = 0; i < 20000; i++) {
    const b = new Uint8Array(12 + (next() % 64));
    for (let j = 0; j < b.length; j++) b[j] = next();
    b[4] = 0;
    b[5] = next() % 4;
    const r = parseDnsMessage(b, 0, b.length);
    assert.ok(typeof r === 'object');
  }
});
