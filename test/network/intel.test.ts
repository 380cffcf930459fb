import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../src/core/finding.ts';
import type { IntelEngine } from '../../src/intel/index.ts';
import { buildIntel, intelConfigSchema } from '../../src/intel/index.ts';
import { analyzeNetworkFile } from '../../src/pipeline/network-file.ts';
import { dnsAnswer, dnsQuery, ethIpv4TcpSyn, ethIpv4Udp, pcapFile } from './pcap-build.ts';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'bin', 'deminer.js');
const dir = mkdtempSync(join(tmpdir(), 'deminer-net-intel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HOST = [10, 0, 0, 5];
const RESOLVER = [192, 0, 2, 53];
const POOL_ADDR = [203, 0, 113, 9];

/**
 * A host resolves pool.minexmr.com (minexmr.com is in the shipped pool list
 * data/intel/pools.txt), connects to the answered address on a port no pool
 * list names, then to 45.32.105.134:3333 (an address the list names), and
 * looks up xmr.nanopool.org (nanopool.org is in the list too).
 */
function capture(): string {
  const file = join(dir, 'pool-dns.pcap');
  writeFileSync(
    file,
    pcapFile([
      ethIpv4Udp(HOST, RESOLVER, 40000, 53, dnsQuery('pool.minexmr.com')),
      ethIpv4Udp(RESOLVER, HOST, 53, 40000, dnsAnswer('pool.minexmr.com', [POOL_ADDR], 30)),
      ethIpv4TcpSyn(HOST, POOL_ADDR, 50000, 4444),
      ethIpv4TcpSyn(HOST, [45, 32, 105, 134], 50001, 3333),
      ethIpv4Udp(HOST, RESOLVER, 40001, 53, dnsQuery('xmr.nanopool.org', 0x2222)),
    ]),
  );
  return file;
}
const file = capture();

async function findings(intel?: IntelEngine): Promise<Finding[]> {
  const out: Finding[] = [];
  for await (const x of analyzeNetworkFile(file, { intel })) if ('rule' in x) out.push(x);
  return out;
}

function engine(allow: string[] = [], ips: string[] = []): IntelEngine {
  const stateDir = mkdtempSync(join(dir, 'state-'));
  return buildIntel({ stateDir, config: intelConfigSchema.parse({ allow: { domains: allow, ips } }) });
}

test('a listed pool name in DNS, its answered address and a listed address are high findings with the indicator', async () => {
  const fs = await findings(engine());
  const dns = fs.find(
    (f) => f.rule.id === 'deminer.network.pool_domain' && f.dns?.question.name === 'pool.minexmr.com',
  );
  assert.ok(dns, 'pool_domain for pool.minexmr.com');
  assert.equal(dns.severity, 'high');
  assert.deepEqual(dns.threat.technique, ['T1496']);
  assert.equal(dns.host.name, '10.0.0.5');
  assert.deepEqual(dns.evidence['intel'], {
    indicator: 'minexmr.com',
    type: 'domain',
    source: 'deminer-pools',
    confidence: 80,
  });
  // The query and the response both carry the name.
  assert.deepEqual(dns.evidence['frames'], [1, 2]);

  // Passive DNS: the answer made 203.0.113.9 a pool address, on a port no list knows.
  const viaDns = fs.find(
    (f) => f.rule.id === 'deminer.network.pool_address' && f.destination?.ip === '203.0.113.9',
  );
  assert.ok(viaDns, 'pool_address for the answered address');
  assert.equal(viaDns.severity, 'high');
  assert.equal(viaDns.destination?.port, 4444);
  assert.equal(viaDns.destination?.domain, 'pool.minexmr.com');
  const ev = viaDns.evidence['intel'] as Record<string, unknown>;
  assert.equal(ev['indicator'], '203.0.113.9');
  assert.equal(ev['type'], 'passive-dns');
  assert.equal(ev['via'], 'pool.minexmr.com');
  assert.equal(ev['source'], 'passive-dns');

  const listed = fs.find(
    (f) => f.rule.id === 'deminer.network.pool_address' && f.destination?.ip === '45.32.105.134',
  );
  assert.ok(listed, 'pool_address for a listed IPv4');
  assert.equal((listed.evidence['intel'] as Record<string, unknown>)['type'], 'ipv4');
  assert.match(listed.message, /45\.32\.105\.134:3333.*deminer-pools/);
  // The pool port finding stays beside it: it says something different (the port), at medium.
  assert.ok(fs.some((f) => f.rule.id === 'deminer.network.pool_port' && f.destination?.port === 3333));

  const builtin = fs.find(
    (f) => f.rule.id === 'deminer.network.pool_domain' && f.dns?.question.name === 'xmr.nanopool.org',
  );
  assert.equal((builtin?.evidence['intel'] as Record<string, unknown>)['source'], 'deminer-pools');
  assert.equal(builtin?.evidence['pool_domain'], 'nanopool.org');

  // Same input, same fingerprints.
  const again = await findings(engine());
  assert.deepEqual(again.map((f) => f.fingerprint).sort(), fs.map((f) => f.fingerprint).sort());
});

test('allow-listed names and addresses give no pool finding, the built-in list included', async () => {
  const fs = await findings(engine(['minexmr.com', 'nanopool.org'], ['45.32.105.134']));
  const ids = fs.map((f) => `${f.rule.id} ${f.dns?.question.name ?? f.destination?.ip ?? ''}`);
  assert.ok(!ids.some((i) => i.includes('pool_domain')), ids.join(', '));
  assert.ok(!ids.some((i) => i.includes('pool_address')), ids.join(', '));
});

test('without intel the shipped pool list still holds: its names and their answered addresses', async () => {
  const fs = await findings(undefined);
  // Listed addresses are the engine's; the answered address of a listed name is the pool check's own passive DNS.
  const addresses = fs
    .filter((f) => f.rule.id === 'deminer.network.pool_address')
    .map((f) => f.destination?.ip);
  assert.deepEqual(addresses, ['203.0.113.9']);
  const names = fs
    .filter((f) => f.rule.id === 'deminer.network.pool_domain')
    .map((f) => f.dns?.question.name);
  assert.deepEqual(names, ['pool.minexmr.com', 'xmr.nanopool.org']);
});

test('deminer sniff -r uses intel by default; --no-intel turns it off', () => {
  const env = { ...process.env, DEMINER_HOME: mkdtempSync(join(dir, 'home-')) };
  const run = (extra: string[]) => {
    const r = spawnSync(process.execPath, [bin, 'sniff', '-r', file, '--format', 'jsonl', ...extra], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Finding);
  };
  const on = run([]);
  assert.ok(
    on.some(
      (f) => f.rule.id === 'deminer.network.pool_domain' && f.dns?.question.name === 'pool.minexmr.com',
    ),
  );
  const listedAddress = (f: Finding) =>
    f.rule.id === 'deminer.network.pool_address' && f.destination?.ip === '45.32.105.134';
  assert.ok(on.some(listedAddress));
  const off = run(['--no-intel']);
  // Only the engine goes: its listed addresses. The shipped pool list is the pool check's own.
  assert.ok(!off.some(listedAddress));
  assert.ok(
    off.some((f) => f.dns?.question.name === 'pool.minexmr.com'),
    'the shipped pool list stays',
  );
  assert.ok(off.some((f) => f.dns?.question.name === 'xmr.nanopool.org'));
});
