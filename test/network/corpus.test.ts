import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ParseIssue } from '../../src/core/errors.ts';
import type { Finding } from '../../src/core/finding.ts';
import type { NetEvent } from '../../src/core/net-event.ts';
import { atLeast } from '../../src/core/severity.ts';
import { analyzeNetworkFile } from '../../src/pipeline/network-file.ts';

const here = dirname(fileURLToPath(import.meta.url));
const corpora = join(here, '..', '..', '..', 'shared', 'corpora');
const pcapDir = join(corpora, 'pcap');
const zeekDir = join(corpora, 'zeek_suricata', 'slips');
const haveCorpus = existsSync(pcapDir);
const haveTshark = spawnSync('tshark', ['-v']).status === 0;
const NO_CORPUS = `corpus not found at ${corpora}`;

async function run(path: string, onEvent?: (e: NetEvent) => void) {
  const findings: Finding[] = [];
  const issues: ParseIssue[] = [];
  let packets = -1;
  for await (const x of analyzeNetworkFile(path, {
    ...(onEvent ? { onEvent } : {}),
    onStats: (s) => {
      packets = s.packets;
    },
  })) {
    if ('rule' in x) findings.push(x);
    else issues.push(x);
  }
  return { findings, issues, packets };
}

test('nesfit stratum capture: cgminer sessions are critical mining findings with agent and worker', async (t) => {
  if (!haveCorpus) return t.skip(NO_CORPUS);
  const { findings } = await run(join(pcapDir, 'nesfit-stratum', 'cgminer.s0.pcapng'));
  const mining = findings.filter((f) => f.rule.id === 'deminer.network.mining_protocol');
  // One finding per host and pool (no DNS in this capture: pools are known by port), not one per flow.
  const ports = new Set(mining.map((f) => f.destination?.port));
  assert.equal(mining.length, ports.size, `${mining.length} mining findings for ${ports.size} pool ports`);
  assert.ok(mining.length >= 3, `${mining.length} mining findings`);
  const f9999 = mining.find((f) => f.destination?.port === 9999);
  assert.ok(f9999, 'stratum on 9999');
  assert.equal(f9999.severity, 'critical');
  assert.deepEqual(f9999.threat.technique, ['T1496']);
  assert.equal(f9999.evidence['agent'], 'cgminer/3.7.2');
  assert.deepEqual(f9999.evidence['frames'], [319]);
  // Stratum on port 25 (SMTP's port) is still stratum.
  const on25 = mining.find((f) => f.destination?.port === 25 && f.evidence['wallet_or_worker'] !== undefined);
  assert.ok(on25, 'stratum on port 25 with authorize');
  assert.equal(on25.source?.ip, '192.168.1.100');
  assert.ok((on25.evidence['destinations'] as string[]).length > 5, 'the pool addresses it used are listed');
  assert.ok((on25.evidence['observations'] as number) > (on25.evidence['destinations'] as string[]).length);
  assert.ok(findings.some((f) => f.rule.id === 'deminer.network.pool_port' && f.destination?.port === 3333));
});

test('nesfit getblocktemplate capture: getwork over HTTP, the miner agent, and pool names from DNS', async (t) => {
  if (!haveCorpus) return t.skip(NO_CORPUS);
  const { findings } = await run(join(pcapDir, 'nesfit-stratum', 'cgminer.g0.pcapng'));
  assert.ok(
    findings.some(
      (f) => f.rule.id === 'deminer.network.mining_protocol' && f.evidence['protocol'] === 'getblocktemplate',
    ),
  );
  assert.ok(findings.some((f) => f.rule.id === 'deminer.network.miner_user_agent'));
  const pool = findings.find((f) => f.rule.id === 'deminer.network.pool_domain');
  assert.equal(pool?.dns?.question.name, 'litecoinpool.org');
  assert.equal(pool?.severity, 'high');
});

test('peer-to-peer coin traffic is not reported as mining at high or critical', async (t) => {
  if (!haveCorpus) return t.skip(NO_CORPUS);
  for (const name of ['bitcoin.pcap', 'ethereum.pcap']) {
    const { findings } = await run(join(pcapDir, 'nDPI', name));
    assert.deepEqual(
      findings.filter((f) => atLeast(f.severity, 'high')).map((f) => f.rule.id),
      [],
      name,
    );
    assert.ok(
      findings.some((f) => f.rule.id === 'deminer.network.coin_p2p' && f.severity === 'low'),
      name,
    );
  }
});

test('DNS tunnels and exfiltration show up as random-looking names, grouped per domain', async (t) => {
  if (!haveCorpus) return t.skip(NO_CORPUS);
  const exf = await run(join(pcapDir, 'nDPI', 'dns_exfiltration.pcap'));
  const r = exf.findings.filter((f) => f.rule.id === 'deminer.network.random_dns');
  assert.equal(r.length, 1);
  assert.equal(r[0]!.severity, 'medium');
  assert.ok((r[0]!.evidence['observations'] as number) > 50);
  const benign = await run(join(pcapDir, 'nDPI', 'googledns_android10.pcap'));
  assert.deepEqual(
    benign.findings.filter((f) => f.rule.id === 'deminer.network.random_dns'),
    [],
  );
});

test('malformed DNS is counted and reported with its frame, the rest still read', async (t) => {
  const file = join(here, '..', 'fixtures', 'network', 'malformed_dns.pcap');
  const { issues, packets } = await run(file);
  assert.equal(packets, 6);
  assert.ok(issues.length >= 1);
  for (const i of issues) assert.match(i.location, /malformed_dns\.pcap#\d+$/);
  t.diagnostic(`${issues.length} issues: ${[...new Set(issues.map((i) => i.code))].join(', ')}`);
});

test('every corpus capture: packet count matches tshark, and DNS names match tshark on the DNS captures', async (t) => {
  if (!haveCorpus) return t.skip(NO_CORPUS);
  if (!haveTshark) return t.skip('tshark is not installed (apt-get install tshark)');
  const files: string[] = [];
  for (const d of ['nDPI', 'nesfit-stratum', 'slips', 'sbousseaden', join('slips', 'test-cc')]) {
    const dir = join(pcapDir, d);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (/\.pcap(ng)?$/.test(f)) files.push(join(dir, f));
  }
  assert.ok(files.length > 20);
  // capinfos (from the same Wireshark install) counts every file in one run; tshark per file is slow.
  const ci = spawnSync('capinfos', ['-c', '-M', '-T', '-r', ...files], { encoding: 'utf8' });
  const counts = new Map(
    ci.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .map(([f, n]) => [f ?? '', Number(n)] as const),
  );
  for (const f of files) {
    const { packets } = await run(f);
    assert.equal(packets, counts.get(f), f);
  }
  for (const name of ['dns.pcap', 'dns_ambiguous_names.pcap', 'googledns_android10.pcap']) {
    const f = join(pcapDir, 'nDPI', name);
    const ours = new Set<string>();
    await run(f, (e) => {
      for (const q of e.dns?.questions ?? []) ours.add(q.name);
    });
    const ts = spawnSync('tshark', ['-r', f, '-Y', 'dns && !icmp', '-T', 'fields', '-e', 'dns.qry.name'], {
      encoding: 'utf8',
    });
    const theirs = new Set(
      ts.stdout
        .split('\n')
        .flatMap((l) => l.split(','))
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    );
    const missing = [...theirs].filter((n) => !ours.has(n) && !/[^\x21-\x7e]/.test(n));
    assert.deepEqual(missing, [], name);
  }
});

test('Zeek (TSV and JSON) and Suricata logs from the corpus: read without mining findings', async (t) => {
  if (!existsSync(zeekDir)) return t.skip(NO_CORPUS);
  const files = [
    join(zeekDir, 'test9-mixed-zeek-dir', 'dns.log'),
    join(zeekDir, 'test9-mixed-zeek-dir', 'ssl.log'),
    join(zeekDir, 'test9-mixed-zeek-dir', 'x509.log'),
    join(zeekDir, 'test9-mixed-zeek-dir', 'http.log'),
    join(zeekDir, 'test10-mixed-zeek-dir', 'conn.log'),
    join(zeekDir, 'test10-mixed-zeek-dir', 'dns.log'),
    join(zeekDir, 'test6-malicious.suricata.json'),
  ];
  for (const f of files) {
    const { findings, issues } = await run(f);
    assert.deepEqual(issues, [], f);
    assert.deepEqual(
      findings
        .filter((x) => x.threat.technique.includes('T1496') && atLeast(x.severity, 'high'))
        .map((x) => x.rule.id),
      [],
      f,
    );
  }
  let events = 0;
  await run(join(zeekDir, 'test10-mixed-zeek-dir', 'dns.log'), (e) => {
    if (e.kind === 'dns') events++;
  });
  assert.ok(events > 50, `${events} DNS events from TSV`);
});

test('Zeek DNS logs (JSON and TSV): NXDOMAIN replies carry rcode 3, as many as the log holds', async (t) => {
  if (!existsSync(zeekDir)) return t.skip(NO_CORPUS);
  for (const f of [
    join(zeekDir, 'test9-mixed-zeek-dir', 'dns.log'),
    join(zeekDir, 'test10-mixed-zeek-dir', 'dns.log'),
  ]) {
    const expected = readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#') && /\bNXDOMAIN\b/.test(l)).length;
    let nx = 0;
    await run(f, (e) => {
      if (e.dns?.rcode === 3) {
        assert.equal(e.dns.response, true);
        nx++;
      }
    });
    assert.ok(expected > 0, `${f} holds NXDOMAIN replies`);
    assert.equal(nx, expected, f);
  }
});
