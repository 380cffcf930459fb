import assert from 'node:assert/strict';
import { test } from 'node:test';
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
