// The host-level DGA rule of the network detector, fed DNS observations
// directly and scored by the shipped DGA model (no stand-in scorer).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../core/finding.ts';
import type { NetEvent } from '../../core/net-event.ts';
import { isDga } from '../../ml/dga/index.ts';
import { networkLists } from './lists.ts';
import { answer, connection, dhcp, generatedNames, ptrAnswer, query } from './net-event-fixture.ts';
import { NetworkDetector } from './network-detector.ts';

const DGA_HOST = 'deminer.network.dga_host';
const RANDOM_DNS = 'deminer.network.random_dns';

const POPULAR = [
  'google.com',
  'youtube.com',
  'facebook.com',
  'wikipedia.org',
  'amazon.com',
  'microsoft.com',
  'apple.com',
  'github.com',
  'stackoverflow.com',
  'debian.org',
  'ubuntu.com',
  'cloudflare.com',
  'akamaihd.net',
  'windowsupdate.com',
  'office.com',
  'live.com',
  'linkedin.com',
  'twitter.com',
  'instagram.com',
  'reddit.com',
  'netflix.com',
  'bbc.co.uk',
  'theguardian.com',
  'nytimes.com',
  'spiegel.de',
  'lemonde.fr',
  'gov.uk',
  'europa.eu',
  'mozilla.org',
  'npmjs.com',
  'pypi.org',
  'docker.com',
  'letsencrypt.org',
  'digicert.com',
  'gstatic.com',
  'googleapis.com',
  'doubleclick.net',
  'bing.com',
  'yahoo.com',
  'zoom.us',
  'slack.com',
  'dropbox.com',
  'salesforce.com',
  'adobe.com',
  'paypal.com',
  'ebay.com',
  'booking.com',
  'weather.com',
  'haveibeenpwned.com',
  'whatismyipaddress.com',
  'openstreetmap.org',
  'archive.org',
  'w3.org',
  'ietf.org',
];

function run(
  events: NetEvent[],
  opts: {
    dgaHostRule?: { minimum?: number; nameFpr?: number; alpha?: number };
    dgaHostWindowMs?: number;
  } = {},
) {
  const d = new NetworkDetector({ lists: networkLists(), ...opts });
  for (const e of events) d.observe(e);
  return d.finalize();
}

test('a host resolving many generated names is reported once, at high, with the domains', () => {
  const infected = '198.51.100.7';
  const clean = '198.51.100.8';
  const events: NetEvent[] = [];
  let t = Date.UTC(2026, 0, 5, 9);
  const tick = (ms: number): number => {
    t += ms;
    return t;
  };
  let frame = 1;
  // Both hosts browse; the infected one also walks a day's DGA list, one name every 20 s.
  for (const name of POPULAR) {
    events.push(query(infected, name, tick(1000), frame++));
    events.push(query(clean, name, tick(1000), frame++));
  }
  for (const name of generatedNames(30, 7)) events.push(query(infected, name, tick(20_000), frame++));
  const findings = run(events);
  const hosts = findings.filter((f) => f.rule.id === DGA_HOST);
  assert.equal(hosts.length, 1);
  const f = hosts[0]!;
  assert.equal(f.host.name, infected);
  assert.equal(f.severity, 'high');
  assert.ok((f.evidence['peak_distinct_domains'] as number) >= 20, JSON.stringify(f.evidence));
  const domains = f.evidence['domains'] as string[];
  assert.ok(domains.length >= 7 && domains.length <= 20);
  for (const dom of domains) assert.ok(!POPULAR.includes(dom), dom);
  assert.ok(!findings.some((x) => x.host.name === clean && atLeastMedium(x.severity)), 'clean host reported');
  // The per-domain findings stay medium: one name alone is a lead, not a verdict.
  for (const x of findings.filter((y) => y.rule.id === RANDOM_DNS)) assert.equal(x.severity, 'medium');
});

test('few generated names, names spread beyond the window, or a busy host stay below the rule', () => {
  const host = '203.0.113.20';
  const names = generatedNames(4, 11);
  let t = Date.UTC(2026, 0, 5, 9);
  const tick = (ms: number): number => {
    t += ms;
    return t;
  };
  const few = names.map((n, i) => query(host, n, tick(1000), i + 1));
  // The same name asked again does not count twice.
  few.push(query(host, names[0]!, tick(1000), 99));
  assert.equal(run(few).filter((f) => f.rule.id === DGA_HOST).length, 0);
  assert.equal(run(few, { dgaHostRule: { minimum: 4 } }).filter((f) => f.rule.id === DGA_HOST).length, 1);

  const spread = generatedNames(12, 13).map((n, i) =>
    query(host, n, Date.UTC(2026, 0, 5) + i * 20 * 60_000, i + 1),
  );
  // 12 names, one every 20 minutes: at most 4 inside any hour.
  assert.equal(run(spread).filter((f) => f.rule.id === DGA_HOST).length, 0);
  assert.equal(
    run(spread, { dgaHostWindowMs: 4 * 3_600_000 }).filter((f) => f.rule.id === DGA_HOST).length,
    1,
  );

  // Eight generated names are a DGA on a quiet host, but chance on one that resolved a thousand names.
  const eight = generatedNames(8, 17);
  const quiet = eight.map((n, i) => query(host, n, tick(1000), i + 1));
  assert.equal(run(quiet).filter((f) => f.rule.id === DGA_HOST).length, 1);
  const busy: NetEvent[] = [];
  for (let i = 0; i < 1000; i++) busy.push(query(host, `srv${i}.example.com`, tick(100), i + 1));
  busy.push(...eight.map((n, i) => query(host, n, tick(1000), 2000 + i)));
  assert.equal(run(busy).filter((f) => f.rule.id === DGA_HOST).length, 0);
});

function atLeastMedium(s: string): boolean {
  return s === 'medium' || s === 'high' || s === 'critical';
}

test('NXDOMAIN answers to the generated names are counted in the host finding', () => {
  const host = '198.51.100.9';
  let t = Date.UTC(2026, 0, 5, 9);
  const tick = (ms: number): number => {
    t += ms;
    return t;
  };
  const events: NetEvent[] = [];
  generatedNames(12, 23).forEach((name, i) => {
    events.push(query(host, name, tick(1000), 2 * i + 1));
    events.push({
      ...query(host, name, tick(50), 2 * i + 2),
      dns: { response: true, rcode: 3, questions: [{ name, type: 'A' }], answers: [] },
    });
  });
  // A popular name that answered NOERROR does not count.
  events.push({
    ...query(host, 'github.com', tick(50), 99),
    dns: { response: true, rcode: 0, questions: [{ name: 'github.com', type: 'A' }], answers: [] },
  });
  const f = run(events).find((x) => x.rule.id === DGA_HOST);
  assert.ok(f);
  // Every one answered NXDOMAIN; those the model flags count (11 of the 12 since the issue-18
  // threshold, which sits at 0.3 % false positives on benign lists never trained on).
  const flagged = generatedNames(12, 23).filter((n) => isDga(n)).length;
  assert.ok(flagged >= 10, `${flagged} of 12 flagged`);
  assert.equal(f.evidence['nxdomain_domains'], flagged);
});

test('the DNS windows stay bounded: hosts idle behind 100,000 busier ones are forgotten', () => {
  const host = '198.51.100.30';
  const names = generatedNames(6, 31);
  let t = Date.UTC(2026, 0, 5, 9);
  const tick = (ms: number): number => {
    t += ms;
    return t;
  };
  const events: NetEvent[] = names.slice(0, 4).map((n, i) => query(host, n, tick(10), i + 1));
  for (let i = 0; i < 120_000; i++) {
    events.push(
      query(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'www.example.com', tick(1), 10 + i),
    );
  }
  events.push(...names.slice(4).map((n, i) => query(host, n, tick(10), 200_000 + i)));
  // Four names before and two after: six would be reported if the first four were still held.
  assert.equal(run(events).filter((f) => f.rule.id === DGA_HOST).length, 0);
  const kept = [...names.map((n, i) => query(host, n, Date.UTC(2026, 0, 5, 9) + i * 10, i + 1))];
  assert.equal(run(kept).filter((f) => f.rule.id === DGA_HOST).length, 1);
});

test('a resolver asking for more than 10,000 names an hour is not judged by its own count', () => {
  const resolver = '192.0.2.10';
  let t = Date.UTC(2026, 0, 5, 9);
  const tick = (ms: number): number => {
    t += ms;
    return t;
  };
  const events: NetEvent[] = [];
  for (let i = 0; i < 10_050; i++) events.push(query(resolver, `host${i}.example.com`, tick(100), i + 1));
  // 300 generated names among them: far above chance for 10,000 names, but asked on behalf of many clients.
  for (const [i, n] of generatedNames(300, 41).entries())
    events.push(query(resolver, n, tick(10), 20_000 + i));
  const findings = run(events);
  assert.equal(findings.filter((f) => f.rule.id === DGA_HOST).length, 0);
  // The names themselves are still leads.
  assert.ok(findings.filter((f) => f.rule.id === RANDOM_DNS).length > 100);
});

test('two batches that only together cross the dga_host threshold give exactly one finding', () => {
  const host = '198.51.100.40';
  const names = generatedNames(6, 31);
  const t0 = Date.UTC(2026, 0, 5, 9);
  const first = names.slice(0, 3).map((n, i) => query(host, n, t0 + i * 60_000, i + 1));
  const second = names.slice(3).map((n, i) => query(host, n, t0 + 600_000 + i * 60_000, i + 1));
  assert.equal(run(first).filter((f) => f.rule.id === DGA_HOST).length, 0);
  assert.equal(run(second).filter((f) => f.rule.id === DGA_HOST).length, 0);
  // One detector for both, reporting after each batch as a hunt over two files does.
  const d = new NetworkDetector({ lists: networkLists() });
  const out: Finding[] = [];
  for (const e of first) out.push(...d.observe({ ...e, file: 'dns.1.log' }));
  out.push(...d.drain());
  for (const e of second) out.push(...d.observe({ ...e, file: 'dns.2.log' }));
  out.push(...d.finalize());
  const hosts = out.filter((f) => f.rule.id === DGA_HOST);
  assert.equal(hosts.length, 1);
  // The generated names the model flags (5 of the 6 since the issue-18 threshold).
  const flagged = names.filter((n) => isDga(n)).length;
  assert.ok(flagged >= 5, `${flagged} of 6 flagged`);
  assert.equal(hosts[0]!.evidence['peak_distinct_domains'], flagged);
});

test('a PTR answer or a DHCP request names the host; the address stays in source.ip', () => {
  const miner = '10.20.0.5';
  const laptop = '10.20.0.6';
  const pool = '203.0.113.60';
  const t0 = Date.UTC(2026, 0, 5, 9);
  const mining = (src: string, tsMs: number, frame: number): NetEvent => ({
    kind: 'mining',
    tsMs,
    file: 'cap.pcap',
    frame,
    transport: 'tcp',
    src: { ip: src, port: 40000 },
    dst: { ip: pool, port: 3333 },
    mining: { protocol: 'stratum', method: 'mining.subscribe', role: 'client' },
  });
  const d = new NetworkDetector({ lists: networkLists() });
  d.observe(ptrAnswer('10.20.0.53', miner, 'Build-Box.corp.example.', t0, 1));
  d.observe(mining(miner, t0 + 1000, 2));
  // The laptop mines before it is named: the name learned later still names it.
  d.observe(mining(laptop, t0 + 2000, 3));
  d.observe(dhcp('alice-laptop', laptop, t0 + 3000, 4));
  // An unnamed host keeps its address.
  d.observe(mining('10.20.0.7', t0 + 4000, 5));
  const byIp = new Map(d.finalize().map((f) => [f.source?.ip, f]));
  assert.equal(byIp.get(miner)?.host.name, 'build-box');
  assert.equal(byIp.get(laptop)?.host.name, 'alice-laptop');
  assert.equal(byIp.get('10.20.0.7')?.host.name, '10.20.0.7');
  assert.equal(d.stats()['host_names'], 2);
  // A name learned from DHCP outranks a PTR answer; an asset map passed in outranks both.
  const named = new NetworkDetector({ lists: networkLists() });
  named.observe(dhcp('alice-laptop', laptop, t0, 1));
  named.observe(ptrAnswer('10.20.0.53', laptop, 'dyn-10-20-0-6.corp.example', t0 + 1, 2));
  named.observe(mining(laptop, t0 + 2, 3));
  assert.equal(named.finalize()[0]?.host.name, 'alice-laptop');
});

test('400,000 source hosts: every table stays bounded and the evictions are counted', () => {
  const d = new NetworkDetector({ lists: networkLists(), maxPassiveDns: 1000 });
  const t0 = Date.UTC(2026, 0, 5, 9);
  const hosts = 400_000;
  for (let i = 0; i < hosts; i++) {
    const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    d.observe(connection(src, `198.51.${(i >> 8) & 255}.${i & 255}`, 443, t0 + i, i + 1));
  }
  const s = d.stats();
  assert.ok(s['connection_rate_sources']! <= 50_000, JSON.stringify(s));
  assert.equal(s['connection_rate_sources']! + s['connection_rate_sources_evicted']!, hosts);
  assert.ok(s['pending_findings']! === 0 && s['dns_window_hosts'] === 0);
  // Passive DNS: the least recently answered addresses go first.
  for (let i = 0; i < 3000; i++)
    d.observe(answer('10.0.0.1', 'www.example.com', [`198.18.${i >> 8}.${i & 255}`], t0 + hosts + i, i + 1));
  assert.equal(d.stats()['passive_dns_entries'], 1000);
  assert.equal(d.stats()['passive_dns_evicted'], 2000);
  assert.equal(d.domainOf('198.18.0.0'), undefined);
  assert.equal(d.domainOf(`198.18.${2999 >> 8}.${2999 & 255}`), 'www.example.com');
  assert.equal(d.finalize().length, 0);
});

test('past its limit the pending-finding table forgets reported findings first and loses none', () => {
  const pool = (i: number) =>
    connection(`10.30.${i >> 8}.${i & 255}`, '198.51.100.1', 3333, Date.UTC(2026, 0, 5) + i, i + 1);
  const d = new NetworkDetector({ lists: networkLists(), limits: { pendingFindings: 100 } });
  const reported: Finding[] = [];
  for (let i = 0; i < 80; i++) reported.push(...d.observe(pool(i)));
  reported.push(...d.drain());
  assert.equal(reported.length, 80);
  for (let i = 80; i < 150; i++) reported.push(...d.observe(pool(i)));
  // 150 findings held at most 100: 50 of the 80 already reported made room.
  assert.equal(d.stats()['pending_findings'], 100);
  assert.equal(d.stats()['pending_findings_evicted'], 50);
  // Still known: not reported twice.
  assert.deepEqual(d.observe(pool(79)), []);
  // Nothing reported left to forget: the oldest unreported ones are handed out early (by observe), not dropped.
  for (let i = 150; i < 300; i++) reported.push(...d.observe(pool(i)));
  assert.ok(d.stats()['findings_handed_out_early']! > 0);
  reported.push(...d.finalize());
  const hosts = reported.map((f) => f.source?.ip);
  assert.equal(new Set(hosts).size, 300);
  assert.equal(hosts.length, 300);
});

test('one pool matcher on the wire: a pool met by lookup, then by connection, says where it was seen', () => {
  const d = new NetworkDetector({ lists: networkLists() });
  const t = Date.UTC(2026, 10, 30, 9);
  const host = '198.51.100.20';
  const events: NetEvent[] = [
    query(host, 'gulf.moneroocean.stream', t, 1),
    answer(host, 'gulf.moneroocean.stream', ['203.0.113.44'], t + 10, 2),
    connection(host, '203.0.113.44', 10128, t + 20, 3),
  ];
  const out: Finding[] = [];
  for (const e of events) out.push(...d.observe(e));
  out.push(...d.finalize());
  const byRule = (id: string) => out.filter((f) => f.rule.id === id);
  const name = byRule('deminer.network.pool_domain');
  const address = byRule('deminer.network.pool_address');
  assert.equal(name.length, 1, 'the lookup: one finding');
  assert.equal(address.length, 1, 'the connection: one finding');
  assert.deepEqual(name[0]!.evidence['seen_in'], ['dns']);
  assert.deepEqual(
    address[0]!.evidence['seen_in'],
    ['dns', 'connection'],
    'the same pool, by its listed name',
  );
});
