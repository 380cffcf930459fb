import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Finding } from '../../../core/finding.ts';
import type { NetEvent } from '../../../core/net-event.ts';
import { dataPath } from '../../../core/paths.ts';
import { dgaHost } from '../dga-host/index.ts';
import { networkLists } from '../lists.ts';
import { query } from '../net-event-fixture.ts';
import { NetworkDetector } from '../network-detector.ts';
import type { NetworkRuleModule } from '../network-rule.ts';
import { ALT_ROOT_DNS, altRoot } from './index.ts';
import { buildTldTables, classifyTld } from './tld.ts';

const lists = networkLists();
const HOST = '10.20.0.5';

function run(events: readonly NetEvent[], rules: readonly NetworkRuleModule[] = [altRoot]): Finding[] {
  const d = new NetworkDetector({ lists }, rules);
  const out: Finding[] = [];
  for (const e of events) out.push(...d.observe(e));
  out.push(...d.finalize());
  return out;
}

function queries(names: readonly string[], host = HOST, start = Date.UTC(2026, 2, 1, 8)): NetEvent[] {
  return names.map((n, i) => query(host, n, start + i * 5_000, i + 1));
}

test('TLDs: EmerDNS, Namecoin and OpenNIC roots are known; ICANN and private-use TLDs are not reported', () => {
  assert.deepEqual(classifyTld('pool.xmr.bazar'), {
    kind: 'alternative',
    tld: 'bazar',
    root: 'EmerDNS',
    domain: 'xmr.bazar',
  });
  for (const tld of ['coin', 'emc', 'lib']) assert.equal(classifyTld(`a.${tld}`)?.root, 'EmerDNS', tld);
  assert.equal(classifyTld('Wallet.BIT.')?.root, 'Namecoin');
  assert.equal(classifyTld('wallet.BIT.')?.domain, 'wallet.bit');
  for (const tld of ['bbs', 'chan', 'dyn', 'geek', 'gopher', 'indy', 'libre', 'neo', 'null', 'o', 'oss'])
    assert.equal(classifyTld(`x.${tld}`)?.root, 'OpenNIC', tld);
  for (const tld of ['oz', 'parody', 'pirate']) assert.equal(classifyTld(`x.${tld}`)?.root, 'OpenNIC', tld);
  // ICANN delegated .free after OpenNIC used it: ICANN's wins.
  assert.equal(classifyTld('shop.free')?.kind, 'icann');
  for (const n of [
    'www.example.com',
    'bbc.co.uk',
    'a.b.xn--p1ai',
    'пример.рф',
    'x.onion',
    '1.0.0.10.in-addr.arpa',
  ])
    assert.equal(classifyTld(n)?.kind, 'icann', n);
  for (const n of ['printer.lan', 'nas.local', 'dc1.corp', 'box.localdomain', 'x.test', 'a.internal'])
    assert.equal(classifyTld(n)?.kind, 'private', n);
  assert.deepEqual(classifyTld('c2.zzqx'), { kind: 'unknown', tld: 'zzqx', domain: 'c2.zzqx' });
  // Nothing to judge: one label, addresses, characters DNS names do not carry.
  for (const n of ['localhost', 'wpad', '192.0.2.1', '2001:db8::1', '.', 'a.b c', 'x.-ab', ''])
    assert.equal(classifyTld(n), undefined, n);
});

test('TLD tables: an alternative-root line that ICANN delegates is dropped', () => {
  const t = buildTldTables('// header\ncom\nfree\n', '# c\nbazar\tEmerDNS\nfree\tOpenNIC\n', 'lan\n');
  assert.deepEqual([...t.alternative], [['bazar', 'EmerDNS']]);
  assert.equal(classifyTld('a.free', t)?.kind, 'icann');
  assert.equal(classifyTld('a.lan', t)?.kind, 'private');
});

test('the shipped ICANN TLD list comes from the Public Suffix List, with its licence header', () => {
  const text = readFileSync(dataPath('dns', 'icann-tlds.txt'), 'utf8');
  assert.match(text, /Mozilla Public\n\/\/ License, v\. 2\.0/);
  assert.match(text, /publicsuffix\/list/);
  const tlds = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('//'));
  assert.ok(tlds.length > 1000 && tlds.length < 3000, `${tlds.length} TLDs`);
  for (const t of ['com', 'uk', 'de', 'arpa', 'xn--p1ai']) assert.ok(tlds.includes(t), t);
  for (const t of ['bazar', 'bit', 'geek', 'lan']) assert.ok(!tlds.includes(t), t);
  assert.deepEqual(
    tlds.filter((t) => t !== t.toLowerCase() || t.includes('.')),
    [],
  );
});

test('alt_root_dns: .bazar, .bit and OpenNIC lookups are medium findings, one per registered name', () => {
  const findings = run(
    queries([
      'pool.minexmr.bazar',
      'eu.minexmr.bazar',
      'pool.minexmr.bazar',
      'wallet.bit',
      'forum.geek',
      'www.wikipedia.org',
      'nas.local',
      'printer.lan',
    ]),
  );
  assert.deepEqual(
    findings.map((f) => [f.rule.id, f.severity, f.dns?.question?.name]),
    [
      [ALT_ROOT_DNS.id, 'medium', 'pool.minexmr.bazar'],
      [ALT_ROOT_DNS.id, 'medium', 'wallet.bit'],
      [ALT_ROOT_DNS.id, 'medium', 'forum.geek'],
    ],
  );
  const bazar = findings[0]!;
  assert.deepEqual([...bazar.threat.technique].sort(), ['T1071.004', 'T1568']);
  assert.deepEqual(bazar.evidence['names'], ['pool.minexmr.bazar', 'eu.minexmr.bazar']);
  assert.equal(bazar.evidence['root'], 'EmerDNS');
  assert.match(bazar.message, /EmerDNS alternative DNS root/);
  assert.equal(bazar.host.name, HOST);
});

test('alt_root_dns: TLDs neither ICANN nor a known root are one low finding per host', () => {
  const findings = run(queries(['a1.qzxv', 'b2.qzxv', 'www.example.com', 'dnscat.0f3a9c']));
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.severity, 'low');
  assert.match(findings[0]!.message, /not delegated by ICANN's root/);
  assert.deepEqual(findings[0]!.evidence['names'], ['a1.qzxv', 'b2.qzxv', 'dnscat.0f3a9c']);
  assert.deepEqual(findings[0]!.evidence['tlds'], ['qzxv', '0f3a9c']);
});

test('dga_host counts alternative-root names whatever their per-name score', () => {
  const popular = [
    'www.google.com',
    'github.com',
    'deb.debian.org',
    'www.wikipedia.org',
    'outlook.office365.com',
    'www.bbc.co.uk',
    'slack.com',
    'zoom.us',
    'pypi.org',
    'www.mozilla.org',
  ];
  // Word-like labels that the per-name model does not flag.
  const labels = ['market', 'garden', 'silver', 'orange', 'window', 'planet', 'forest', 'castle'];
  const hostsOf = (names: string[]) =>
    run(queries(names), [dgaHost]).filter((f) => f.rule.id === 'deminer.network.dga_host');
  assert.equal(hostsOf([...popular, ...labels.map((l) => `${l}.com`)]).length, 0);
  const reported = hostsOf([...popular, ...labels.map((l) => `${l}.bazar`)]);
  assert.equal(reported.length, 1);
  assert.equal(reported[0]!.severity, 'high');
  assert.ok((reported[0]!.evidence['domains'] as string[]).includes('market.bazar'));
});
