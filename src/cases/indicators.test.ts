import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeFinding } from '../core/finding.ts';
import { indicatorsOf, isMiningFinding, normalisePool } from './indicators.ts';

const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const SHA = 'a'.repeat(64);

test('pools: domain when named, address:port otherwise; schemes and users dropped', () => {
  assert.equal(normalisePool('stratum+tcp://Pool.SupportXMR.com:3333'), 'pool.supportxmr.com');
  assert.equal(normalisePool('stratum+ssl://x@pool.example.org:443/path'), 'pool.example.org');
  assert.equal(normalisePool('198.51.100.7:5555'), '198.51.100.7:5555');
  assert.equal(normalisePool('198.51.100.7'), '198.51.100.7');
  assert.equal(normalisePool('[2001:db8::1]:3333'), '[2001:db8::1]:3333');
  assert.equal(normalisePool('not a pool'), undefined);
});

test('a miner finding gives its wallet (with coin), pool and binary hash', () => {
  const f = makeFinding({
    rule: { id: 'deminer.process.miner_cmdline', name: 'Miner command line', ruleset: 'builtin' },
    severity: 'critical',
    techniques: ['T1496'],
    host: 'web01',
    subject: ['x'],
    message: 'XMRig runs',
    process: {
      pid: 42,
      command_line: `/tmp/.x/kswapd0 -o stratum+tcp://pool.example.org:3333 -u ${WALLET}.w1 -p x`,
      hash: { sha256: SHA.toUpperCase() },
    },
    evidence: {
      pool: 'pool.example.org:3333',
      signals: [{ evidence: { destinations: ['203.0.113.9:7777'] } }],
    },
  });
  assert.ok(isMiningFinding(f));
  assert.deepEqual(indicatorsOf(f), [
    { kind: 'hash', value: SHA },
    { kind: 'pool', value: '203.0.113.9:7777' },
    { kind: 'pool', value: 'pool.example.org' },
    { kind: 'wallet', value: WALLET, coin: 'monero' },
  ]);
});

test('network findings: a mining connection names the pool; a DGA finding names C2 domains', () => {
  const pool = makeFinding({
    rule: { id: 'deminer.net.mining_protocol', name: 'Stratum', ruleset: 'builtin' },
    severity: 'high',
    techniques: ['T1496'],
    host: '10.0.0.5',
    subject: ['y'],
    message: 'stratum',
    destination: { ip: '192.0.2.10', port: 3333 },
    evidence: { destinations: ['192.0.2.10:3333'], wallet_or_worker: `${WALLET}+1000` },
  });
  assert.deepEqual(
    indicatorsOf(pool).map((i) => `${i.kind}:${i.value}`),
    ['pool:192.0.2.10:3333', `wallet:${WALLET}`],
  );
  const dga = makeFinding({
    rule: { id: 'deminer.net.dga_host', name: 'DGA', ruleset: 'builtin' },
    severity: 'medium',
    techniques: ['T1568.002'],
    host: '10.0.0.5',
    subject: ['z'],
    message: 'dga',
    dns: { question: { name: 'qwkzjxv.example.net' } },
    evidence: { domains: ['Abcdefgh.example.com', 'not a domain'] },
  });
  assert.deepEqual(
    indicatorsOf(dga).map((i) => `${i.kind}:${i.value}`),
    ['domain:abcdefgh.example.com', 'domain:qwkzjxv.example.net'],
  );
});
