import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Backoff, Spool, type SpooledBatch } from '../../src/agent/spool.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'deminer-spool-'));
  dirs.push(d);
  return join(d, 'spool');
}

function quiet(): { warn: (m: string) => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warn: (m) => warnings.push(m), warnings };
}

async function drainAll(s: Spool): Promise<SpooledBatch[]> {
  const got: SpooledBatch[] = [];
  await s.drain(async (b) => {
    got.push(b);
  });
  return got;
}

describe('spool', () => {
  test('survives a restart, keeps order and idempotency keys, folder 0700 and files 0600', async () => {
    const dir = tempDir();
    const a = await Spool.open(dir, quiet());
    const r1 = await a.add('findings', [{ n: 1 }]);
    const r2 = await a.add('metrics', [{ n: 2 }]);
    const r3 = await a.add('findings', [{ n: 3 }], 'run-key-3');
    assert.ok(r1.accepted && r2.accepted && r3.accepted);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);

    // A new process opens the same folder.
    const b = await Spool.open(dir, quiet());
    assert.equal(b.size, 3);
    const got = await drainAll(b);
    assert.deepEqual(
      got.map((x) => [x.kind, x.items, x.idempotencyKey]),
      [
        ['findings', [{ n: 1 }], r1.idempotencyKey],
        ['metrics', [{ n: 2 }], r2.idempotencyKey],
        ['findings', [{ n: 3 }], 'run-key-3'],
      ],
    );
    assert.equal(b.size, 0);
    // Sequence numbers go on after a restart: a new batch is behind the old ones.
    const c = await Spool.open(dir, quiet());
    const r4 = await c.add('findings', [{ n: 4 }]);
    assert.ok((r4.seq ?? 0) > (r3.seq ?? 0));
  });

  test('a failed send is retried with the same key and nothing is lost or reordered', async () => {
    const s = await Spool.open(tempDir(), quiet());
    await s.add('findings', [1]);
    await s.add('findings', [2]);
    const keys: string[] = [];
    let fail = 2;
    const order: unknown[] = [];
    const sent = await s.drain(
      async (b) => {
        keys.push(b.idempotencyKey);
        if (fail-- > 0) throw Object.assign(new Error('down'), { retryable: true });
        order.push(b.items[0]);
      },
      { backoff: new Backoff(1, 5) },
    );
    assert.equal(sent, 2);
    assert.deepEqual(order, [1, 2]);
    assert.equal(keys[0], keys[1]);
    assert.equal(keys[1], keys[2]);
  });

  test('a non-retryable error stops the drain and keeps the batch; a rejection moves it aside', async () => {
    const dir = tempDir();
    const q = quiet();
    const s = await Spool.open(dir, q);
    await s.add('findings', [1]);
    await s.add('findings', [2]);
    await assert.rejects(
      s.drain(async () => {
        throw Object.assign(new Error('token revoked'), { retryable: false });
      }),
      /token revoked/,
    );
    assert.equal(s.size, 2);
    const got: unknown[] = [];
    await s.drain(
      async (b) => {
        if (b.items[0] === 1) throw new Error('422 bad finding');
        got.push(b.items[0]);
      },
      { classify: () => 'reject' },
    );
    assert.deepEqual(got, [2]);
    assert.equal(s.stats().rejected, 1);
    assert.equal(readdirSync(join(dir, 'rejected')).length, 1);
  });

  test('byte bound: metrics dropped first, then refused; findings dropped last with a warning and a count', async () => {
    const q = quiet();
    const item = { pad: 'x'.repeat(900) };
    const probe = JSON.stringify({
      v: 1,
      kind: 'findings',
      idempotency_key: '00000000-0000-0000-0000-000000000000',
      created_at: new Date().toISOString(),
      items: [item],
    }).length;
    const s = await Spool.open(tempDir(), { maxBytes: probe * 4 + 100, ...q });
    await s.add('metrics', [item]);
    await s.add('findings', [{ ...item, id: 'f1' }]);
    await s.add('metrics', [item]);
    await s.add('findings', [{ ...item, id: 'f2' }]);
    assert.equal(s.stats().batches, 4);
    // Full: a new finding pushes out the oldest metrics, then the next metrics.
    await s.add('findings', [{ ...item, id: 'f3' }]);
    await s.add('findings', [{ ...item, id: 'f4' }]);
    let st = s.stats();
    assert.equal(st.droppedMetricsBatches, 2);
    assert.equal(st.metricsBatches, 0);
    assert.equal(st.droppedFindingsBatches, 0);
    // Only findings left: new metrics are refused.
    const m = await s.add('metrics', [item]);
    assert.equal(m.accepted, false);
    assert.equal(s.stats().refusedMetricsBatches, 1);
    assert.deepEqual(q.warnings, []);
    // A new finding now costs the oldest finding, loudly.
    await s.add('findings', [{ ...item, id: 'f5' }]);
    st = s.stats();
    assert.equal(st.droppedFindingsBatches, 1);
    assert.equal(st.droppedFindings, 1);
    assert.equal(q.warnings.length, 1);
    assert.match(q.warnings[0]!, /dropped the oldest findings batch/);
    assert.ok(st.bytes <= st.maxBytes);
    const got = await drainAll(s);
    assert.deepEqual(
      got.map((b) => (b.items[0] as { id: string }).id),
      ['f2', 'f3', 'f4', 'f5'],
    );
  });

  test('a corrupt or half-written file is reported, moved aside, and the rest goes on', async () => {
    const dir = tempDir();
    const q = quiet();
    const s = await Spool.open(dir, q);
    const a = await s.add('findings', [1]);
    await s.add('findings', [2]);
    await s.add('findings', [3]);
    // A torn write of the second batch, and a leftover temp file of a write that never finished.
    const second = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()[1]!;
    writeFileSync(join(dir, second), '{"v":1,"kind":"findings","idem');
    writeFileSync(join(dir, '.tmp-0000000000000009-findings.json-abcd'), '{"v":1');
    const t = await Spool.open(dir, q);
    const got = await drainAll(t);
    assert.deepEqual(
      got.map((b) => b.items[0]),
      [1, 3],
    );
    assert.equal(got[0]!.idempotencyKey, a.idempotencyKey);
    assert.equal(t.stats().corrupt, 2);
    assert.equal(readdirSync(join(dir, 'corrupt')).length, 2);
    assert.equal(q.warnings.length, 2, q.warnings.join('\n'));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f !== 'corrupt'),
      [],
    );
  });

  test('backoff grows exponentially with jitter and is capped at 60 s', () => {
    const hi = new Backoff(1000, 60_000, () => 1);
    const waits = Array.from({ length: 10 }, () => hi.next());
    assert.deepEqual(waits.slice(0, 7), [1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    assert.ok(waits.every((w) => w <= 60_000));
    const lo = new Backoff(1000, 60_000, () => 0);
    assert.deepEqual([lo.next(), lo.next(), lo.next()], [500, 1000, 2000]);
    lo.reset();
    assert.equal(lo.next(), 500);
  });
});
