import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeLabel, extractFeatures, FEATURE_COUNT, MAX_PAIRS } from './features.ts';
import { LM_SIZE, trainCharLm } from './lm.ts';

const lm = trainCharLm(['google', 'facebook', 'wikipedia'].map(encodeLabel));
const idx = new Int32Array(MAX_PAIRS);
const val = new Float32Array(MAX_PAIRS);

test('features stay inside the weight vector and are finite', () => {
  for (const label of ['a', 'google', 'x1-_9', 'ü', 'a'.repeat(1000)]) {
    const n = extractFeatures(label, lm, idx, val);
    assert.ok(n > 0 && n <= MAX_PAIRS);
    for (let i = 0; i < n; i++) {
      assert.ok(idx[i]! >= 0 && idx[i]! < FEATURE_COUNT, `${label}: index ${idx[i]}`);
      assert.ok(Number.isFinite(val[i]!), `${label}: value ${val[i]}`);
    }
  }
});

test('an empty label has no features', () => {
  assert.equal(extractFeatures('', lm, idx, val), 0);
});

test('the benign language model prefers seen text', () => {
  assert.equal(lm.length, LM_SIZE);
  const surprise = (label: string): number => {
    const n = extractFeatures(label, lm, idx, val);
    for (let i = 0; i < n; i++) if (idx[i] === 38) return val[i]!;
    return Number.NaN;
  };
  assert.ok(surprise('google') < surprise('xqzvkw'));
});
