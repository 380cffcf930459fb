import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeFinding } from '../../src/core/finding.ts';
import { DEFAULT_RETENTION, pruneOnce } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';

const DAY = 86_400_000;

function finding(host: string, ageDays: number) {
  return makeFinding({
    rule: { id: 'deminer.test.rule', name: 'Test rule', ruleset: 'builtin' },
    severity: 'high',
    techniques: ['T1496'],
    host,
    subject: [host],
    timestamp: new Date(Date.now() - ageDays * DAY).toISOString(),
    message: 'm',
  });
}

test('retention: findings are kept by default; with an age, what was last seen before it goes, with old metrics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-retention-'));
  const store = await openStore({ dataDir: dir });
  try {
    const at = new Date().toISOString();
    await store.ingestFindings([finding('old-host', 400), finding('new-host', 1)], { actor: 't', at });
    await store.addMetrics([
      { hostId: 'h', at: new Date(Date.now() - 40 * DAY).toISOString(), subject: 'host', cpu: 0.5 },
      { hostId: 'h', at, subject: 'host', cpu: 0.2 },
    ]);
    const byDefault = await pruneOnce(store, DEFAULT_RETENTION);
    assert.equal(byDefault.findings, 0, 'a hunt of old logs is not deleted by default');
    assert.equal(byDefault.metrics, 1, 'metrics older than 30 days go');
    const withAge = await pruneOnce(store, { findingsMs: 180 * DAY });
    assert.equal(withAge.findings, 1);
    const left = await store.listFindings({});
    assert.deepEqual(
      left.items.map((f) => f.finding.host.name),
      ['new-host'],
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
