import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from './types.ts';

/**
 * Tasks for agents, evidence and chain of custody (migration 0008), on
 * every engine: handed out once (compare-and-set), handed out again when
 * stale, ended once, evidence with its first two custody entries in one
 * transaction, sizes above 2^31 kept exactly (bigint).
 */
export function taskSuite(name: string, open: () => Promise<Store>): void {
  const withStore = (fn: (s: Store) => Promise<void>) => async () => {
    const s = await open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe(`store: ${name}: host tasks and evidence`, () => {
    test(
      'a task is handed out once, again when stale, and ended once',
      withStore(async (s) => {
        const t = await s.tasks.create({
          hostId: 'h1',
          hostName: 'web-01',
          incidentId: 'inc_000000000001',
          kind: 'collect',
          params: { targets: [{ pid: 42 }] },
          requestedBy: 'tok_a',
        });
        assert.match(t.id, /^task_[0-9a-f]{16}$/);
        assert.equal(t.state, 'queued');
        const past = new Date(Date.now() - 3600_000).toISOString();
        const first = await s.tasks.claim('h1', { limit: 4, staleBefore: past });
        assert.deepEqual(
          first.map((x) => [x.id, x.state]),
          [[t.id, 'running']],
        );
        assert.deepEqual(await s.tasks.claim('h1', { limit: 4, staleBefore: past }), [], 'not twice');
        assert.deepEqual(
          await s.tasks.claim('h2', { limit: 4, staleBefore: past }),
          [],
          'not to another host',
        );
        const future = new Date(Date.now() + 60_000).toISOString();
        assert.equal(
          (await s.tasks.claim('h1', { limit: 4, staleBefore: future })).length,
          1,
          'stale: again',
        );
        assert.equal(await s.tasks.finish(t.id, 'h2', { state: 'done', result: {} }), undefined);
        const done = await s.tasks.finish(t.id, 'h1', { state: 'done', result: { ok: true, steps: [] } });
        assert.equal(done?.state, 'done');
        assert.deepEqual(done?.result, { ok: true, steps: [] });
        assert.equal(
          await s.tasks.finish(t.id, 'h1', { state: 'failed', result: {} }),
          undefined,
          'ended once',
        );
        assert.deepEqual(
          (await s.tasks.list({ incidentId: 'inc_000000000001' })).map((x) => x.id),
          [t.id],
        );
      }),
    );

    test(
      'a watch is found while in force, comes due when it runs out, and ends once',
      withStore(async (s) => {
        const t = await s.tasks.create({
          hostId: 'h1',
          hostName: 'web-01',
          incidentId: 'inc_000000000002',
          kind: 'eradicate',
          params: { targets: [], steps: ['kill'] },
          requestedBy: 'tok_a',
        });
        assert.equal(t.watch, null);
        await s.tasks.startWatch(t.id, {
          since: '2026-11-30T10:00:00.000Z',
          until: '2026-11-30T10:30:00.000Z',
          killed: [4242, 4243],
        });
        const active = await s.tasks.activeWatch('inc_000000000002', '2026-11-30T10:10:00.000Z');
        assert.deepEqual(active?.watch, {
          since: '2026-11-30T10:00:00.000Z',
          until: '2026-11-30T10:30:00.000Z',
          killed: [4242, 4243],
          endedAt: null,
          outcome: null,
        });
        assert.deepEqual(await s.tasks.dueWatches('2026-11-30T10:10:00.000Z', 10), []);
        assert.equal(await s.tasks.activeWatch('inc_000000000002', '2026-11-30T10:31:00.000Z'), undefined);
        assert.deepEqual(
          (await s.tasks.dueWatches('2026-11-30T10:31:00.000Z', 10)).map((x) => x.id),
          [t.id],
        );
        assert.equal(await s.tasks.endWatch(t.id, '2026-11-30T10:31:00.000Z', 'quiet'), true);
        assert.equal(await s.tasks.endWatch(t.id, '2026-11-30T10:31:01.000Z', 'returned'), false, 'once');
        assert.deepEqual(await s.tasks.dueWatches('2026-11-30T11:00:00.000Z', 10), []);
        assert.equal((await s.tasks.get(t.id))?.watch?.outcome, 'quiet');
      }),
    );

    test(
      'evidence keeps its size exactly and starts its custody with collected and stored',
      withStore(async (s) => {
        const big = 5 * 1024 ** 3 + 7;
        const e = await s.tasks.addEvidence(
          {
            id: 'ev_00000000000000aa',
            taskId: 'task_00000000000000aa',
            incidentId: 'inc_000000000001',
            hostId: 'h1',
            hostName: 'web-01',
            kind: 'memory',
            name: 'memory of pid 42',
            bytes: big,
            sha256: 'a'.repeat(64),
            path: 'h1/ev_00000000000000aa.bin',
            meta: { pid: 42 },
            collectedAt: '2026-11-30T10:00:00.000Z',
          },
          { agent: 'agent:web-01', server: 'server' },
        );
        assert.equal(e.bytes, big);
        const got = await s.tasks.getEvidence(e.id);
        assert.equal(got?.bytes, big);
        assert.deepEqual(got?.meta, { pid: 42 });
        await s.tasks.addCustody(e.id, { actor: 'ana', action: 'downloaded', detail: { verified: true } });
        const c = await s.tasks.custody(e.id);
        assert.deepEqual(
          c.map((x) => [x.action, x.actor]),
          [
            ['collected', 'agent:web-01'],
            ['stored', 'server'],
            ['downloaded', 'ana'],
          ],
        );
        assert.equal(c[0]?.detail['pid'], 42);
        assert.deepEqual(
          (await s.tasks.listEvidence({ incidentId: 'inc_000000000001' })).map((x) => x.id),
          [e.id],
        );
        await assert.rejects(s.tasks.addCustody(e.id, { actor: 'x', action: 'erased' as never }));
      }),
    );
  });
}
