import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildIntel } from '../../intel/index.ts';
import { LearnedPools } from './learned-pools.ts';
import { PoolCheck } from './pool-check.ts';

const FROM = { host: 'ws-1', address: '10.0.0.1', protocol: 'stratum', method: 'mining.subscribe' };
const T0 = Date.UTC(2026, 0, 1);

test('learned pools are bounded, least recently seen out first', () => {
  const l = new LearnedPools({ maxEntries: 3 });
  for (let i = 1; i <= 3; i++) l.learn(`192.0.2.${i}`, 3333, `p${i}.example.net`, FROM, T0 + i);
  // A lookup is a sighting: .1 becomes the most recent, so .2 goes when .4 arrives.
  assert.ok(l.endpoint('192.0.2.1', 3333, T0 + 10));
  l.learn('192.0.2.4', 3333, 'p4.example.net', FROM, T0 + 11);
  assert.equal(l.size, 3);
  assert.equal(l.endpoint('192.0.2.2', 3333, T0 + 12), undefined);
  assert.ok(l.endpoint('192.0.2.1', 3333, T0 + 12));
  assert.ok(l.name('p4.example.net', T0 + 12));
  assert.equal(l.name('p2.example.net', T0 + 12), undefined);
  assert.ok(l.evicted >= 1);
});

test('learned pools expire ttl after their mining was last seen; seeing it again keeps it', () => {
  const l = new LearnedPools({ ttlMs: 1000 });
  l.learn('192.0.2.9', 4444, undefined, FROM, T0);
  assert.ok(l.endpoint('192.0.2.9', 4444, T0 + 1000));
  l.learn('192.0.2.9', 4444, 'late.example.net', { ...FROM, host: 'ws-2' }, T0 + 1500);
  const e = l.endpoint('192.0.2.9', 4444, T0 + 2400);
  assert.equal(e?.host, 'ws-1', 'the first host seen mining stays the one named');
  assert.equal(e?.name, 'late.example.net', 'a name learned later is kept');
  assert.equal(e?.first_seen, new Date(T0).toISOString());
  assert.equal(l.endpoint('192.0.2.9', 4444, T0 + 2600), undefined);
  // Without a port, the address alone matches its learned endpoint.
  l.learn('192.0.2.10', 5555, undefined, FROM, T0 + 3000);
  assert.ok(l.endpoint('192.0.2.10', undefined, T0 + 3000));
  assert.equal(l.endpoint('192.0.2.10', 443, T0 + 3000), undefined);
});

test('PoolCheck answers learned pools after its lists, and never learns an allow-listed address', () => {
  const check = new PoolCheck({ builtinPools: new Set(['nanopool.org']) });
  check.observeMining({
    ip: '203.0.113.5',
    port: 3333,
    name: 'Pool.Example.NET.',
    host: 'ws-1',
    address: '10.0.0.1',
    protocol: 'stratum',
    method: 'mining.subscribe',
    tsMs: T0,
  });
  const byName = check.domain('pool.example.net');
  assert.ok(byName && byName !== 'allowed');
  assert.equal(byName.type, 'learned');
  assert.equal(byName.learnedFrom?.host, 'ws-1');
  const byIp = check.ip('203.0.113.5', 3333);
  assert.ok(byIp && byIp !== 'allowed');
  assert.equal(byIp.indicator, '203.0.113.5:3333');
  // A listed name answers from the list, not from what was learned.
  const listed = check.domain('xmr.nanopool.org');
  assert.ok(listed && listed !== 'allowed');
  assert.equal(listed.source, 'deminer-pools');
  // Time moves on with the events: a week later nothing learned remains.
  check.at(T0 + 8 * 24 * 3600_000);
  assert.equal(check.domain('pool.example.net'), undefined);
  assert.equal(check.ip('203.0.113.5', 3333), undefined);

  const off = new PoolCheck({ learned: false });
  off.observeMining({
    ip: '203.0.113.6',
    port: 3333,
    host: 'h',
    address: 'a',
    protocol: 'p',
    method: 'm',
    tsMs: T0,
  });
  assert.equal(off.ip('203.0.113.6', 3333), undefined);
});

test("pools learned elsewhere are taken under this run's allow-list; what is no address is not taken", () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'deminer-seed-'));
  try {
    // The built-in allow-list holds shared CDN ranges (data/intel/cdn-allow.txt): 173.245.48.0/20 among them.
    const check = new PoolCheck({ intel: buildIntel({ stateDir }) });
    const at = '2026-11-30T10:00:00.000Z';
    const taken = check.seedLearned([
      { ip: '203.0.113.70', port: 3333, name: 'stratum.unlisted.example', first_seen: at, last_seen: at },
      { ip: '173.245.48.10', port: 443, first_seen: at, last_seen: at },
      { ip: 'pool.example; rm -rf /', port: 3333, first_seen: at, last_seen: at },
      { ip: '', first_seen: at, last_seen: at },
    ]);
    assert.equal(taken, 1);
    const hit = check.ip('203.0.113.70', 3333);
    assert.ok(hit && hit !== 'allowed' && hit.source === 'deminer-learned');
    const cdn = check.ip('173.245.48.10', 443);
    assert.ok(cdn === undefined || cdn === 'allowed', 'an allow-listed address never becomes a pool');
    // Without intel every well-formed address is taken; the malformed ones still are not.
    assert.equal(
      new PoolCheck().seedLearned([
        { ip: '173.245.48.10', port: 443, first_seen: at, last_seen: at },
        { ip: '999.1.1.1', port: 1, first_seen: at, last_seen: at },
      ]),
      1,
    );
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
