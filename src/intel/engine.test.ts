import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyValue } from './classify.ts';
import { IntelEngine } from './engine.ts';
import { IndicatorIndex } from './indicator-index.ts';
import { PassiveDns } from './passive-dns.ts';
import type { Indicator } from './types.ts';
import { NO_MATCH } from './types.ts';

function ind(value: string, source = 'feed', extra: Partial<Indicator> = {}): Indicator {
  const c = classifyValue(value, false);
  if (!c.ok) throw new Error(c.message);
  return { value: c.value, type: c.type, source, confidence: 70, ...extra };
}

function engine(block: string[], allow: string[] = [], now = { t: 1_000_000 }) {
  const f = new IndicatorIndex();
  for (const v of block) f.add(ind(v));
  const a = new IndicatorIndex();
  for (const v of allow) a.add(ind(v, 'user'));
  const pdns = new PassiveDns({ minTtlMs: 60_000, maxTtlMs: 3_600_000, maxEntries: 3, confidence: 60 });
  return new IntelEngine(f, a, pdns, () => now.t);
}

test('domain suffix matching stops at label boundaries', () => {
  const e = engine(['pool.example']);
  assert.equal(e.matchDomain('pool.example').listed, true);
  assert.equal(e.matchDomain('eu1.pool.example').listed, true);
  assert.equal(e.matchDomain('a.b.c.pool.example').listed, true);
  assert.equal(e.matchDomain('notpool.example').listed, false);
  assert.equal(e.matchDomain('pool.example.evil').listed, false);
  assert.equal(e.matchDomain('example').listed, false);
  assert.equal(e.matchDomain('').listed, false);
  assert.equal(e.matchDomain('.').listed, false);
});

test('case and the root dot do not matter', () => {
  const e = engine(['pool.example']);
  assert.equal(e.matchDomain('EU1.Pool.EXAMPLE.').listed, true);
  assert.equal(e.matchDomain('pool.example.').matches[0]!.indicator, 'pool.example');
});

test('every listed suffix is reported, most specific first', () => {
  const e = engine(['example.net', 'xmr.pool.example.net']);
  assert.deepEqual(
    e.matchDomain('a.xmr.pool.example.net').matches.map((m) => m.indicator),
    ['xmr.pool.example.net', 'example.net'],
  );
});

test('the allow-list wins and is reported', () => {
  const e = engine(['example.net', '198.51.100.0/24'], ['cdn.example.net', '198.51.100.7']);
  const v = e.matchDomain('img.cdn.example.net');
  assert.equal(v.listed, false);
  assert.equal(v.allowed, true);
  assert.equal(v.matches.length, 1);
  assert.equal(v.allowedBy![0]!.indicator, 'cdn.example.net');
  assert.equal(e.matchDomain('pool.example.net').listed, true);
  assert.equal(e.matchIp('198.51.100.7').listed, false);
  assert.equal(e.matchIp('198.51.100.8').listed, true);
});

test('misses share one frozen answer', () => {
  const e = engine(['pool.example', '192.0.2.1']);
  assert.equal(e.matchDomain('other.example'), NO_MATCH);
  assert.equal(e.matchIp('192.0.2.2'), NO_MATCH);
  assert.equal(e.matchIp('not an ip'), NO_MATCH);
  assert.ok(Object.isFrozen(NO_MATCH));
});

test('CIDR edges: network, broadcast, neighbours, nested prefixes, IPv6 and mapped IPv4', () => {
  const e = engine(['198.51.100.0/24', '203.0.113.128/25', '203.0.113.200', '2001:db8:1::/48', '192.0.2.1']);
  assert.equal(e.matchIp('198.51.100.0').listed, true);
  assert.equal(e.matchIp('198.51.100.255').listed, true);
  assert.equal(e.matchIp('198.51.99.255').listed, false);
  assert.equal(e.matchIp('198.51.101.0').listed, false);
  assert.equal(e.matchIp('203.0.113.127').listed, false);
  assert.deepEqual(
    e.matchIp('203.0.113.200').matches.map((m) => m.indicator),
    ['203.0.113.200', '203.0.113.128/25'],
  );
  assert.equal(e.matchIp('2001:db8:1:ffff::1').listed, true);
  assert.equal(e.matchIp('2001:db8:2::1').listed, false);
  assert.equal(e.matchIp('::ffff:192.0.2.1').listed, true);
  assert.equal(e.matchIp('192.0.2.01').listed, false, 'leading zeros are not an address');
  assert.equal(e.matchIp('256.0.0.1').listed, false);
});

test('wide networks and public suffixes are refused at load', () => {
  assert.equal(classifyValue('10.0.0.0/7').ok, false);
  assert.equal(classifyValue('co.uk').ok, false);
  assert.equal(classifyValue('github.io').ok, false);
  assert.equal(classifyValue('com').ok, false);
  assert.equal(classifyValue('pool.github.io').ok, true);
  assert.deepEqual(classifyValue('*.pool.example'), classifyValue('pool.example'));
});

test('ip:port and URLs', () => {
  const e = engine(['198.51.100.7:3333', '[2001:db8::9]:5555', 'stratum+tcp://pool.example:4444']);
  assert.equal(e.matchIpPort('198.51.100.7', 3333).listed, true);
  assert.equal(e.matchIpPort('198.51.100.7', 443).listed, false);
  assert.equal(e.matchIpPort('2001:db8::9', 5555).listed, true);
  assert.equal(e.lookup('198.51.100.7:3333').listed, true);
  assert.equal(e.lookup('[2001:db8::9]:5555').listed, true);
  assert.equal(e.matchUrl('stratum+tcp://POOL.example:4444').listed, true);
  assert.equal(e.matchUrl('stratum+tcp://pool.example:4445').listed, false);
  assert.equal(e.matchUrl('http://198.51.100.7:3333/').listed, true);
});

test('expired indicators stop matching', () => {
  const now = { t: 1_000_000 };
  const f = new IndicatorIndex();
  f.add(ind('old.example', 'feed', { expires: 2_000_000 }));
  const e = new IntelEngine(f, new IndicatorIndex(), new PassiveDns(), () => now.t);
  assert.equal(e.matchDomain('x.old.example').listed, true);
  now.t = 2_000_001;
  assert.equal(e.matchDomain('x.old.example').listed, false);
});

test('same value from two sources: both reported; repeats merge', () => {
  const f = new IndicatorIndex();
  f.add(ind('pool.example', 'a', { confidence: 50 }));
  f.add(ind('pool.example', 'a', { confidence: 90 }));
  f.add(ind('pool.example', 'b'));
  const e = new IntelEngine(f, new IndicatorIndex(), new PassiveDns(), () => 0);
  const m = e.matchDomain('pool.example').matches;
  assert.deepEqual(m.map((x) => [x.source, x.confidence]).sort(), [
    ['a', 90],
    ['b', 70],
  ]);
  assert.equal(f.size, 2);
});

test('passive DNS: answers of listed names become temporary indicators, clamped TTL, CDN ranges skipped', () => {
  const now = { t: 1_000_000 };
  const e = engine(['pool.example'], ['104.16.0.0/13'], now);
  assert.deepEqual(e.observeDnsAnswer('www.unlisted.example', ['192.0.2.5'], 300), { added: 0, allowed: 0 });
  assert.deepEqual(e.observeDnsAnswer('eu.pool.example.', ['192.0.2.5', '104.16.1.1', '2001:db8::5'], 1), {
    added: 2,
    allowed: 1,
  });
  const v = e.matchIp('192.0.2.5');
  assert.equal(v.listed, true);
  assert.equal(v.matches[0]!.via, 'eu.pool.example');
  assert.equal(e.matchIp('2001:db8::5').listed, true);
  assert.equal(e.matchIp('104.16.1.1').listed, false);
  now.t += 59_000;
  assert.equal(e.matchIp('192.0.2.5').listed, true, 'a 1 s TTL is kept for min_ttl');
  now.t += 2_000;
  assert.equal(e.matchIp('192.0.2.5').listed, false);
  // The bound on entries evicts instead of growing.
  e.observeDnsAnswer('pool.example', ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13'], 100);
  assert.ok(e.passiveDnsEntries().length <= 3);
  assert.equal(e.matchIp('192.0.2.13').listed, true);
});
