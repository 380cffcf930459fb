import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IntelEngine } from '../../src/intel/engine.ts';
import { IndicatorIndex } from '../../src/intel/indicator-index.ts';
import { detectFormat, parseFeed } from '../../src/intel/parsers/index.ts';
import { PassiveDns } from '../../src/intel/passive-dns.ts';
import type { Indicator } from '../../src/intel/types.ts';
import { BLOCKLISTS, CORPORA, fixture, HAVE_CORPORA, SKIP_REASON } from './corpus.ts';

const NOW = Date.parse('2026-01-15T00:00:00Z');
const opts = (file: string) => ({ source: 'test', confidence: 70, file, now: NOW });

function engineOf(indicators: Indicator[], allow: Indicator[] = []): IntelEngine {
  const feeds = new IndicatorIndex();
  for (const i of indicators) feeds.add(i);
  const a = new IndicatorIndex();
  for (const i of allow) a.add(i);
  return new IntelEngine(feeds, a, new PassiveDns(), () => NOW);
}

function corpus(rel: string): string {
  return readFileSync(`${BLOCKLISTS}${rel}`, 'utf8');
}

test('plain lists: CoinBlockerLists domains and mining-server IPs', (t) => {
  if (!HAVE_CORPORA) return t.skip(SKIP_REASON);
  const ips = parseFeed(corpus('CoinBlockerLists-2018/MiningServerIPList.txt'), 'auto', opts('ips'));
  assert.equal(ips.format, 'plain');
  assert.equal(ips.issueCount, 0);
  assert.ok(ips.indicators.length > 1000, `${ips.indicators.length} IPs`);
  assert.ok(ips.indicators.every((i) => i.type === 'ipv4'));
  const list = parseFeed(corpus('CoinBlockerLists-2018/list.txt'), 'plain', opts('list'));
  assert.ok(list.indicators.length > 5000);
  // The few entries with a port (host:8688) are reported, not fatal.
  assert.ok(list.issueCount < 10, `${list.issueCount} issues`);
  const e = engineOf([...ips.indicators, ...list.indicators]);
  assert.equal(e.matchIp('1.31.173.33').listed, true);
  assert.equal(e.matchDomain('000.0x1f4b0.com').listed, true);
  assert.equal(e.matchDomain('deep.sub.000.0x1f4b0.com').listed, true);
});

test('hosts files: CoinBlockerLists and NoCoin, localhost lines ignored', (t) => {
  if (!HAVE_CORPORA) return t.skip(SKIP_REASON);
  for (const f of ['CoinBlockerLists-2018/hosts', 'adblock-nocoin-list/hosts.txt']) {
    const r = parseFeed(corpus(f), 'auto', opts(f));
    assert.equal(r.format, 'hosts', f);
    assert.ok(r.indicators.length > 300, `${f}: ${r.indicators.length}`);
    assert.ok(!r.indicators.some((i) => i.value === 'localhost'));
  }
  const nocoin = parseFeed(corpus('adblock-nocoin-list/hosts.txt'), 'hosts', opts('nocoin'));
  assert.equal(nocoin.issueCount, 0);
  assert.equal(engineOf(nocoin.indicators).matchDomain('api.inwemo.com').listed, true);
});

test('adblock lists: NoCoin and the uBlock list keep only whole-domain rules', (t) => {
  if (!HAVE_CORPORA) return t.skip(SKIP_REASON);
  const r = parseFeed(corpus('adblock-nocoin-list/nocoin.txt'), 'auto', opts('nocoin.txt'));
  assert.equal(r.format, 'adblock');
  assert.ok(r.indicators.length >= 190, `${r.indicators.length}`);
  assert.ok(r.ignored > 100, 'path and option rules are counted as ignored');
  const values = new Set(r.indicators.map((i) => i.value));
  assert.ok(values.has('minexmr.com'), '||minexmr.com^$third-party');
  assert.ok(values.has('webassembly.stream'), 'rule without ^');
  assert.ok(![...values].some((v) => v.includes('/') || v.includes('$')));
  const ubo = parseFeed(corpus('CoinBlockerLists-2018/list_browser_UBO.txt'), 'adblock', opts('ubo'));
  assert.ok(ubo.indicators.length > 700);
  const cosmetic = parseFeed(corpus('adblock-nocoin-list/nocoin-ublock.txt'), 'adblock', opts('u'));
  assert.equal(cosmetic.indicators.length, 0, 'scriptlet rules name no host');
});

test('nDPI mining_hosts.txt (name<TAB>score) reads as a plain list', (t) => {
  if (!HAVE_CORPORA) return t.skip(SKIP_REASON);
  const r = parseFeed(corpus('nDPI/mining_hosts.txt'), 'plain', opts('ndpi'));
  assert.ok(r.indicators.length > 240);
  assert.ok(r.indicators.some((i) => i.value === 'coinhive.com'));
});

test('MISP warning lists: tranco and dynamic-DNS lists', (t) => {
  if (!HAVE_CORPORA) return t.skip(SKIP_REASON);
  const dir = `${CORPORA}dga/benign-misp-warninglists/`;
  const tranco = readFileSync(`${dir}tranco10k.json`, 'utf8');
  assert.equal(detectFormat(tranco), 'misp-warninglist');
  const r = parseFeed(tranco, 'auto', { ...opts('tranco'), checkPublicSuffix: false });
  assert.ok(r.indicators.length > 9900, `${r.indicators.length}`);
  const dyn = parseFeed(readFileSync(`${dir}dynamic-dns.json`, 'utf8'), 'misp-warninglist', {
    ...opts('dyn'),
    checkPublicSuffix: false,
  });
  assert.ok(dyn.indicators.length > 30000);
  // Leading-dot entries mean "this domain and below".
  assert.ok(dyn.indicators.some((i) => i.value === '0000004.xyz'));
  const e = engineOf(
    [{ value: 'pool.0000004.xyz', type: 'domain', source: 'feed', confidence: 80 }],
    dyn.indicators.slice(0, 5),
  );
  const v = e.matchDomain('pool.0000004.xyz');
  assert.equal(v.listed, false);
  assert.equal(v.allowed, true);
});

test('CSV with a header column spec, quoting, unix times and bad rows', () => {
  const r = parseFeed(fixture('feed.csv'), 'csv', opts('feed.csv'), {
    header: true,
    value: 'indicator',
    confidence: 'confidence',
    firstSeen: 'first_seen',
    lastSeen: 'last_seen',
  });
  assert.deepEqual(
    r.indicators.map((i) => [i.value, i.type, i.confidence]),
    [
      ['2miners.com', 'domain', 90],
      ['minexmr.com', 'domain', 85],
      ['185.165.169.108', 'ipv4', 70],
      ['198.51.100.0/24', 'ipv4-cidr', 60],
    ],
  );
  assert.equal(r.indicators[0]!.firstSeen, Date.parse('2025-12-01T00:00:00Z'));
  assert.equal(r.indicators[2]!.firstSeen, 1764547200_000);
  assert.equal(r.issueCount, 2);
  assert.match(r.issues[0]!.location, /feed\.csv:6$/);
  const byNumber = parseFeed(fixture('feed.csv'), 'csv', opts('f'), { header: true, value: 2 });
  assert.equal(byNumber.indicators.length, 4);
});

test('STIX 2.1 bundle: OR patterns, CIDR, URL, IPv6; revoked, expired and AND patterns skipped', () => {
  const r = parseFeed(fixture('bundle.stix.json'), 'auto', opts('bundle'));
  assert.equal(r.format, 'stix');
  assert.deepEqual(r.indicators.map((i) => i.value).sort(), [
    '2001:db8::7',
    '203.0.113.0/24',
    '2miners.com',
    'http://coinhiveproxy.com/lib/miner.js',
    'nanopool.org',
    'webminepool.com',
  ]);
  assert.equal(r.indicators.find((i) => i.value === '2miners.com')!.confidence, 85);
  assert.equal(
    r.indicators.find((i) => i.value === '2001:db8::7')!.expires,
    Date.parse('2099-01-01T00:00:00Z'),
  );
  assert.equal(r.issueCount, 1, 'the AND pattern is reported');
  const e = engineOf(r.indicators);
  assert.equal(e.matchIp('203.0.113.77').listed, true);
  assert.equal(e.matchUrl('http://COINHIVEPROXY.com/lib/miner.js#x').listed, true);
});

test('MISP event: to_ids attributes, composite types and objects', () => {
  const r = parseFeed(fixture('event.misp.json'), 'auto', opts('event'));
  assert.equal(r.format, 'misp');
  assert.deepEqual(r.indicators.map((i) => `${i.type} ${i.value}`).sort(), [
    'domain 2miners.com',
    'domain minexmr.com',
    'domain xmr.nanopool.org',
    'ip-port 198.51.100.7:3333',
    'ipv4 185.165.169.108',
    'ipv4 203.0.113.5',
    'ipv6 2001:db8::5',
    'url stratum+tcp://pool.minexmr.com:4444',
  ]);
  const e = engineOf(r.indicators);
  assert.equal(e.matchIpPort('198.51.100.7', 3333).listed, true);
  assert.equal(e.matchIpPort('198.51.100.7', 4444).listed, false);
  assert.equal(e.matchIp('198.51.100.7').listed, false, 'an ip:port indicator needs the port');
  assert.equal(e.matchUrl('stratum+tcp://pool.minexmr.com:4444').matches.length, 2);
});

test('broken JSON and wrong documents are issues, not crashes', () => {
  for (const f of ['stix', 'misp', 'misp-warninglist'] as const) {
    const r = parseFeed('{"type": "bundle", "objects": [', f, opts('broken'));
    assert.equal(r.indicators.length, 0);
    assert.equal(r.issueCount, 1);
  }
  assert.equal(parseFeed('{"foo": 1}', 'misp', opts('x')).issues[0]!.code, 'INTEL_NOT_MISP_EVENT');
});
