// The host-level DGA rule of the network detector, fed DNS observations
// directly and scored by the shipped DGA model (no stand-in scorer).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { parseEveLine } from '../../sources/suricata/eve-json.ts';
import { networkLists } from './lists.ts';
import type { NetEvent } from './net-event.ts';
import { NetworkDetector } from './network-detector.ts';

const DGA_HOST = 'deminer.network.dga_host';
const RANDOM_DNS = 'deminer.network.random_dns';

/** Labels the way arithmetic DGAs make them: 10–15 random letters under a cheap TLD. */
function generatedNames(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const tlds = ['info', 'biz', 'net', 'org', 'com'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let label = '';
    const n = 10 + Math.floor(random() * 6);
    for (let j = 0; j < n; j++) label += String.fromCharCode(97 + Math.floor(random() * 26));
    out.push(`${label}.${tlds[i % tlds.length]}`);
  }
  return out;
}

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

function query(host: string, name: string, tsMs: number, frame: number): NetEvent {
  return {
    kind: 'dns',
    tsMs,
    file: 'dns.pcap',
    frame,
    transport: 'udp',
    src: { ip: host, port: 53000 },
    dst: { ip: '192.0.2.53', port: 53 },
    dns: { response: false, questions: [{ name, type: 'A' }], answers: [] },
  };
}

function run(
  events: NetEvent[],
  opts: { dgaHostRule?: { floor?: number; nameFpr?: number; alpha?: number }; dgaHostWindowMs?: number } = {},
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
  assert.equal(run(few, { dgaHostRule: { floor: 4 } }).filter((f) => f.rule.id === DGA_HOST).length, 1);

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
  assert.equal(f.evidence['nxdomain_domains'], 12);
});

test('Suricata eve.json DNS answers carry their rcode', () => {
  const base = {
    timestamp: '2026-01-05T09:00:00.000000+0000',
    event_type: 'dns',
    src_ip: '192.0.2.53',
    src_port: 53,
    dest_ip: '198.51.100.9',
    dest_port: 40000,
    proto: 'UDP',
  };
  const nx = parseEveLine(
    JSON.stringify({
      ...base,
      dns: { version: 2, type: 'answer', rrname: 'qxkzvbwplm.info', rrtype: 'A', rcode: 'NXDOMAIN' },
    }),
    'eve.json',
    1,
  ) as NetEvent;
  assert.equal(nx.dns?.rcode, 3);
  assert.equal(nx.dns?.response, true);
  // The client is the source, whichever way the answer travelled.
  assert.equal(nx.src?.ip, '198.51.100.9');
  const q = parseEveLine(
    JSON.stringify({
      ...base,
      src_port: 40000,
      dest_port: 53,
      dns: { type: 'query', rrname: 'example.org', rrtype: 'A' },
    }),
    'eve.json',
    2,
  ) as NetEvent;
  assert.equal(q.dns?.rcode, undefined);
  const odd = parseEveLine(
    JSON.stringify({ ...base, dns: { type: 'answer', rrname: 'example.org', rcode: '__proto__' } }),
    'eve.json',
    3,
  ) as NetEvent;
  assert.equal(odd.dns?.rcode, undefined);
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
