import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processInfo, snapshot } from '../snapshot-fixture.ts';
import type { Signal } from '../types.ts';
import { configSignal, minerCmdline } from './index.ts';

const GENERAL_FUND =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const INFINIUM =
  'inf8VpqmHRoMiNqbck73gwdc9UjB42AKzhmESbpn9kBoBs7sPfmYj3YGJamMbPy3HQLYiQeshbMz3go9QxJeKETw1Md7qnpchq';
const CORRUPTED = `${GENERAL_FUND.slice(0, 60)}${GENERAL_FUND[60] === 'z' ? 'y' : 'z'}${GENERAL_FUND.slice(61)}`;

function signalsOf(argv: string[]): Signal[] {
  const s = snapshot({ processes: [processInfo({ pid: 50, name: 'w', exe: '/opt/w', argv })] });
  return minerCmdline.analyze(s, {}).flatMap((o) => (o.kind === 'process' && o.pid === 50 ? [o.signal] : []));
}

test('a valid wallet alone on a command line is a strong miner signal, with its coin', () => {
  for (const [argv, coin] of [
    [['w', '-u', GENERAL_FUND], 'monero'],
    [['w', `-u${GENERAL_FUND}`], 'monero'],
    [['w', '--user', `${INFINIUM}.rig`], 'infinium'],
  ] as const) {
    const w = signalsOf([...argv]).find((s) => s.id === 'miner.wallet');
    assert.ok(w, argv.join(' '));
    assert.equal(w.evidence?.['coin'], coin);
    assert.ok(w.weight >= 5.5, 'enough on its own for a high finding');
  }
});

test('an address-shaped string whose checksum fails is no wallet', () => {
  assert.equal(
    signalsOf(['w', '-u', CORRUPTED]).find((s) => s.id === 'miner.wallet'),
    undefined,
  );
  assert.equal(
    signalsOf(['w', '-u', `4${'A'.repeat(94)}`]).find((s) => s.id === 'miner.wallet'),
    undefined,
  );
});

test('miner configs: only checksum-valid users count as wallets', () => {
  const good = configSignal(
    JSON.stringify({ pools: [{ url: 'pool.example:3333', user: `${GENERAL_FUND}+20000` }] }),
    '/opt/config.json',
  );
  assert.deepEqual(good?.evidence?.['wallets'], [GENERAL_FUND]);
  const bad = configSignal(
    JSON.stringify({ pools: [{ url: 'pool.example:3333', user: CORRUPTED }] }),
    '/opt/config.json',
  );
  assert.equal(bad, undefined, 'one pool URL and no real wallet is not enough');
});

test('a stratum URL with or without a transport is a pool URL; a word is not', () => {
  for (const url of [
    'stratum://203.0.113.5:3333',
    'stratum+tcp://pool.example:3333',
    'stratum2+tcp://x.example:1',
  ]) {
    const s = signalsOf(['w', '-o', url]).find((x) => x.id === 'miner.stratum_url');
    assert.equal(s?.evidence?.['pool'], url, url);
  }
  assert.equal(
    signalsOf(['w', '--mode', 'stratum', 'stratumx://no']).find((x) => x.id === 'miner.stratum_url'),
    undefined,
  );
});
