import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionError } from './errors.ts';
import { type RunOptions, runIsolation } from './run.ts';
import { protectedEntry } from './safety.ts';
import { parseTarget } from './target.ts';
import { type IsolationBackend, type RuleCheck, withStatus } from './types.ts';

/** A device in memory, with switches for the ways real ones fail. */
function memoryBackend(
  o: { failApply?: ActionError[]; installAfterReads?: number; neverInstall?: boolean } = {},
) {
  const rules = new Set<string>();
  const calls: string[] = [];
  let reads = 0;
  let pendingFrom = -1;
  const expected = ['src drop', 'dst drop'];
  const b: IsolationBackend = withStatus({
    name: 'memory',
    settleMs: 200,
    plan: (action) => [{ kind: 'exec', purpose: action === 'isolate' ? 'apply' : 'release', argv: ['x'] }],
    async apply() {
      calls.push('apply');
      const e = o.failApply?.shift();
      if (e) throw e;
      if (o.neverInstall) return;
      if (o.installAfterReads) pendingFrom = reads;
      else for (const r of expected) rules.add(r);
    },
    async verify(): Promise<RuleCheck> {
      calls.push('verify');
      reads++;
      if (pendingFrom >= 0 && reads - pendingFrom > (o.installAfterReads ?? 0))
        for (const r of expected) rules.add(r);
      return { expected, present: expected.filter((r) => rules.has(r)), detail: `${rules.size} rules` };
    },
    async release() {
      calls.push('release');
      rules.clear();
    },
  });
  return { b, calls, rules };
}

const opts: RunOptions = { retries: 2, backoffMs: 10, timeoutMs: 1000 };
const target = parseTarget('192.0.2.10');

test('isolate: applied, read back, then idempotent; release likewise', async () => {
  const m = memoryBackend();
  const r = await runIsolation('isolate', m.b, target, { ...opts, ttlMs: 3_600_000 });
  assert.equal(r.ok, true);
  assert.equal(r.outcome, 'isolated');
  assert.deepEqual(m.calls, ['verify', 'apply', 'verify']);
  assert.equal(r.ttl?.enforced, false);
  assert.equal(Date.parse(r.ttl!.expires_at) - Date.parse(r.started_at), 3_600_000);
  assert.ok(r.timings.to_verified_ms !== undefined);
  const again = await runIsolation('isolate', m.b, target, opts);
  assert.equal(again.outcome, 'already_isolated');
  assert.equal(m.calls.filter((c) => c === 'apply').length, 1, 'nothing sent twice');
  const rel = await runIsolation('release', m.b, target, opts);
  assert.equal(rel.outcome, 'released');
  const rel2 = await runIsolation('release', m.b, target, opts);
  assert.deepEqual([rel2.ok, rel2.outcome], [true, 'nothing_to_release']);
});

test('a read-back that lags is polled until the settle time', async () => {
  const m = memoryBackend({ installAfterReads: 2 });
  const r = await runIsolation('isolate', m.b, target, opts);
  assert.equal(r.outcome, 'isolated');
  assert.equal(r.attempts, 1);
});

test('a retryable failure is retried with backoff; a rule never read back is a failure, not success', async () => {
  const flaky = memoryBackend({
    failApply: [new ActionError('CONTROLLER_ERROR', '500', { retryable: true })],
  });
  const seen: number[] = [];
  const r = await runIsolation('isolate', flaky.b, target, {
    ...opts,
    onRetry: (_a, _e, ms) => seen.push(ms),
  });
  assert.deepEqual([r.ok, r.attempts], [true, 2]);
  assert.deepEqual(seen, [10]);

  const never = memoryBackend({ neverInstall: true });
  const waits: number[] = [];
  const f = await runIsolation('isolate', never.b, target, {
    ...opts,
    onRetry: (_a, _e, ms) => waits.push(ms),
  });
  assert.deepEqual(
    [f.ok, f.outcome, f.attempts, f.error?.code],
    [false, 'failed', 3, 'ISOLATE_NOT_VERIFIED'],
  );
  assert.deepEqual(waits, [10, 20], 'exponential backoff');
  assert.equal(f.verification?.state, 'not_isolated');
});

test('a failure retrying cannot mend stops at once', async () => {
  const m = memoryBackend({ failApply: [new ActionError('CONTROLLER_AUTH', '401', { retryable: false })] });
  const r = await runIsolation('isolate', m.b, target, opts);
  assert.deepEqual([r.ok, r.attempts, r.error?.code], [false, 1, 'CONTROLLER_AUTH']);
});

test('a protected target is refused before anything is planned or sent; a dry run sends nothing', async () => {
  const m = memoryBackend();
  await assert.rejects(
    runIsolation('isolate', m.b, target, {
      ...opts,
      protect: [protectedEntry('192.0.2.0/24', '--never-isolate')],
    }),
    /ISOLATE_PROTECTED|never-isolate list/,
  );
  const dry = await runIsolation('isolate', m.b, target, { ...opts, dryRun: true });
  assert.deepEqual([dry.ok, dry.outcome, dry.plan?.length], [true, 'planned', 1]);
  assert.deepEqual(m.calls, []);
});
