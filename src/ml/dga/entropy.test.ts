import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shannonEntropy } from './entropy.ts';

test('Shannon entropy in bits per character', () => {
  assert.equal(shannonEntropy(''), 0);
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('abab'), 1);
  assert.equal(shannonEntropy('abcd'), 2);
  assert.equal(shannonEntropy('ééaa'), 1);
});
