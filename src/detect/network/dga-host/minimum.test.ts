import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DGA_HOST_RULE, dgaHostMinimum } from './minimum.ts';

/** P(Binomial(n, p) >= x), summed in log space (independent of the implementation's recurrence). */
function upperTail(n: number, p: number, x: number): number {
  // lgamma[i] = ln(i!)
  const lgamma = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) lgamma[i] = lgamma[i - 1]! + Math.log(i);
  let sum = 0;
  for (let k = x; k <= n; k++) {
    sum += Math.exp(lgamma[n]! - lgamma[k]! - lgamma[n - k]! + k * Math.log(p) + (n - k) * Math.log(1 - p));
  }
  return sum;
}

test('the count needed is the binomial tail point at alpha, never below the minimum', () => {
  const { nameFpr, alpha, minimum } = DEFAULT_DGA_HOST_RULE;
  for (const n of [1, 20, 100, 200, 500, 1000]) {
    const m = dgaHostMinimum(n);
    assert.ok(m >= minimum, `${n}: ${m}`);
    assert.ok(upperTail(n, nameFpr, m) <= alpha, `${n}: tail at ${m}`);
    if (m > minimum) assert.ok(upperTail(n, nameFpr, m - 1) > alpha, `${n}: ${m - 1} would do`);
  }
});

test('more names resolved never lowers the count needed', () => {
  let prev = 0;
  for (let n = 0; n <= 3000; n += 7) {
    const m = dgaHostMinimum(n);
    assert.ok(m >= prev, `${n}: ${m} < ${prev}`);
    prev = m;
  }
  assert.ok(dgaHostMinimum(1000) > dgaHostMinimum(100));
  assert.equal(dgaHostMinimum(10, { nameFpr: 0.01, alpha: 1e-4, minimum: 2 }) >= 2, true);
});
