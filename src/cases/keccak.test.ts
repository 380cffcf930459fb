import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { keccak256Hex, sponge256 } from './keccak.ts';

test('keccak256: the published vectors (not SHA3-256)', () => {
  assert.equal(keccak256Hex(''), 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  assert.equal(keccak256Hex('abc'), '4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  assert.equal(
    keccak256Hex('The quick brown fox jumps over the lazy dog'),
    '4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15',
  );
  assert.notEqual(keccak256Hex(''), createHash('sha3-256').update('').digest('hex'), 'Keccak is not SHA3');
});

test('the permutation and multi-block absorption agree with Node’s SHA3-256 when given its padding', () => {
  // Same sponge, FIPS 202 domain byte: lengths around the 136-byte rate and several blocks.
  for (const n of [0, 1, 55, 135, 136, 137, 271, 272, 273, 1000]) {
    const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
    const ours = Buffer.from(sponge256(data, 0x06)).toString('hex');
    assert.equal(ours, createHash('sha3-256').update(data).digest('hex'), `length ${n}`);
  }
});
