import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildIntel } from '../../intel/index.ts';
import { hostPoolIntel } from './pool-intel.ts';
import { analyzeHost } from './registry.ts';
import { processInfo, snapshot } from './snapshot-fixture.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'deminer-intel-state-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

test('pools named on a command line are checked against the shipped pool feed', () => {
  const intel = hostPoolIntel(buildIntel({ stateDir }));
  assert.ok(intel.matchPool?.('pool.supportxmr.com:3333'), 'a listed pool with a port');
  assert.ok(intel.matchPool?.('stratum+tcp://eu.pool.supportxmr.com:443'), 'a subdomain in a URL');
  assert.equal(intel.matchPool?.('www.example.org:443'), undefined);
  assert.equal(intel.matchPool?.('2001:db8::1'), undefined, 'bare IPv6 is an address, not host:port');
  const s = snapshot({
    processes: [
      processInfo({
        pid: 7,
        name: 'updater',
        exe: '/usr/local/bin/updater',
        argv: ['updater', '-o', 'pool.supportxmr.com:3333', '--coin', 'monero'],
      }),
    ],
  });
  const f = analyzeHost(s, { poolIntel: intel }).find((x) => x.process?.pid === 7);
  const ids = ((f?.evidence['signals'] as { id: string }[]) ?? []).map((x) => x.id);
  assert.ok(ids.includes('miner.listed_pool'), ids.join(','));
  assert.ok(['high', 'critical'].includes(f?.severity ?? ''), f?.message);
});

test('one matcher: the shipped list holds without intel, and each pool says where the host met it', () => {
  const intel = hostPoolIntel(undefined);
  const seen = { where: 'cmdline', host: 'web-1' };
  assert.deepEqual(intel.matchPool?.('stratum+tcp://gulf.moneroocean.stream:10128', seen), {
    indicator: 'moneroocean.stream',
    source: 'deminer-pools',
    seenIn: ['cmdline'],
  });
  assert.equal(intel.matchPool?.('www.example.org:443', seen), undefined);
  // The same pool from a socket on the same host: both places; another host starts afresh.
  assert.deepEqual(intel.matchPool?.('moneroocean.stream', { where: 'socket', host: 'web-1' })?.seenIn, [
    'cmdline',
    'socket',
  ]);
  assert.deepEqual(intel.matchPool?.('moneroocean.stream', { where: 'socket', host: 'web-2' })?.seenIn, [
    'socket',
  ]);
  const s = snapshot({
    processes: [
      processInfo({
        pid: 9,
        name: 'kworker',
        exe: '/tmp/.x/kworker',
        argv: ['kworker', '-o', 'stratum+tcp://xmr-eu1.nanopool.org:14433', '--donate-level', '1'],
      }),
    ],
  });
  const f = analyzeHost(s, { poolIntel: hostPoolIntel(undefined) }).find((x) => x.process?.pid === 9);
  const listed = (f?.evidence['signals'] as { id: string; evidence?: Record<string, unknown> }[]).find(
    (x) => x.id === 'miner.listed_pool',
  );
  assert.deepEqual(listed?.evidence?.['seen_in'], ['cmdline']);
  assert.equal(listed?.evidence?.['indicator'], 'nanopool.org');
});
