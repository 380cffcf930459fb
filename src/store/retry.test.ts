import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ATTEMPTS, retryTransaction } from './retry.ts';

const failure = (code: string) => Object.assign(new Error(code), { code });

test('retryTransaction runs again after a deadlock or serialization failure, a bounded number of times', async () => {
  let calls = 0;
  const ok = await retryTransaction(async () => {
    calls++;
    if (calls === 1) throw failure('40P01');
    if (calls === 2) throw failure('40001');
    return 'done';
  });
  assert.equal(ok, 'done');
  assert.equal(calls, 3);

  calls = 0;
  await assert.rejects(
    retryTransaction(async () => {
      calls++;
      throw failure('40P01');
    }),
    /40P01/,
  );
  assert.equal(calls, MAX_ATTEMPTS);

  calls = 0;
  await assert.rejects(
    retryTransaction(async () => {
      calls++;
      throw failure('23505');
    }),
    /23505/,
  );
  assert.equal(calls, 1, 'other errors are not retried');
});
