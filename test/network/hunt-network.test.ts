import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

test(
  'deminer hunt takes a stratum capture (content-detected) and reports the mining',
  { timeout: 60_000 },
  () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin', 'deminer.js'), 'hunt', join(here, '..', 'fixtures', 'network'), '--format', 'jsonl'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    const findings = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) => JSON.parse(l) as { rule: { id: string }; severity: string; destination?: { port?: number } },
      );
    const mining = findings.filter((f) => f.rule.id === 'deminer.network.mining_protocol');
    assert.ok(mining.some((f) => f.severity === 'critical' && f.destination?.port === 9999));
  },
);
