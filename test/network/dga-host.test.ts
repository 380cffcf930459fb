// `deminer hunt` on a capture in which one host walks a DGA list: the host is
// reported once (deminer.network.dga_host), the host that only browses is not.
// The generated names come from a seeded random-letter generator, the way
// arithmetic DGAs build theirs (the corpus of real DGA lists is not shipped).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dnsNxdomain, dnsQuery, ethIpv4Udp, pcapFile, rng } from './pcap-build.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INFECTED = [198, 51, 100, 7];
const CLEAN = [198, 51, 100, 8];
const RESOLVER = [192, 0, 2, 53];
const POPULAR = [
  'www.google.com',
  'github.com',
  'deb.debian.org',
  'security.debian.org',
  'registry.npmjs.org',
  'api.github.com',
  'www.wikipedia.org',
  'login.microsoftonline.com',
  'outlook.office365.com',
  'www.bbc.co.uk',
  'ocsp.digicert.com',
  'www.cloudflare.com',
  'time.nist.gov',
  'pypi.org',
  'download.docker.com',
  'www.mozilla.org',
  'www.linkedin.com',
  'www.youtube.com',
  'slack.com',
  'zoom.us',
];

function generated(count: number): string[] {
  const random = rng(2026);
  const tlds = ['info', 'biz', 'net', 'org'];
  return Array.from({ length: count }, (_, i) => {
    let label = '';
    for (let j = 0, n = 10 + Math.floor(random() * 5); j < n; j++)
      label += String.fromCharCode(97 + Math.floor(random() * 26));
    return `${label}.${tlds[i % tlds.length]}`;
  });
}

test('hunt reports the host walking a DGA list, and only that host', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-dga-host-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const packets: Uint8Array[] = [];
  let id = 1;
  for (const name of POPULAR) {
    packets.push(ethIpv4Udp(INFECTED, RESOLVER, 40000 + id, 53, dnsQuery(name, id++)));
    packets.push(ethIpv4Udp(CLEAN, RESOLVER, 40000 + id, 53, dnsQuery(name, id++)));
  }
  // The DGA's names were never registered: every lookup comes back NXDOMAIN.
  for (const name of generated(30)) {
    packets.push(ethIpv4Udp(INFECTED, RESOLVER, 40000 + id, 53, dnsQuery(name, id)));
    packets.push(ethIpv4Udp(RESOLVER, INFECTED, 53, 40000 + id, dnsNxdomain(name, id)));
    id++;
  }
  const file = join(dir, 'dga.pcap');
  writeFileSync(file, pcapFile(packets));

  const r = spawnSync(
    process.execPath,
    [join(root, 'bin', 'deminer.js'), 'hunt', file, '--format', 'jsonl'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 1, r.stderr);
  const findings = r.stdout
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          rule: { id: string };
          severity: string;
          host: { name: string };
          evidence: Record<string, unknown>;
        },
    );
  const hosts = findings.filter((f) => f.rule.id === 'deminer.network.dga_host');
  assert.equal(hosts.length, 1, JSON.stringify(hosts));
  assert.equal(hosts[0]!.host.name, INFECTED.join('.'));
  assert.equal(hosts[0]!.severity, 'high');
  assert.ok((hosts[0]!.evidence['peak_distinct_domains'] as number) >= 20);
  // The NXDOMAIN answers, read from the capture, are counted for the generated domains the host was reported for.
  const nx = hosts[0]!.evidence['nxdomain_domains'] as number;
  assert.ok(nx >= 20 && nx <= 30, JSON.stringify(hosts[0]!.evidence));
  const clean = findings.filter((f) => f.host.name === CLEAN.join('.'));
  assert.deepEqual(clean, [], 'the browsing host is not reported');
});
