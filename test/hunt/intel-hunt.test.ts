import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'deminer.js');
const dir = mkdtempSync(join(tmpdir(), 'deminer-hunt-intel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
/** Winlogbeat layout: a miner resolves pool.minexmr.com (in data/intel/pools.txt) and connects to the answer. */
const LOG = [
  {
    '@timestamp': '2025-06-01T08:00:00.000Z',
    host: { name: 'ws-07' },
    winlog: {
      channel: SYSMON,
      event_id: 22,
      record_id: 41,
      computer_name: 'ws-07',
      event_data: {
        Image: 'C:\\ProgramData\\upd\\upd.exe',
        ProcessId: '812',
        QueryName: 'pool.minexmr.com',
        QueryStatus: '0',
        QueryResults: '::ffff:203.0.113.9;',
      },
    },
  },
  {
    '@timestamp': '2025-06-01T08:00:01.000Z',
    host: { name: 'ws-07' },
    winlog: {
      channel: SYSMON,
      event_id: 3,
      record_id: 42,
      computer_name: 'ws-07',
      event_data: {
        Image: 'C:\\ProgramData\\upd\\upd.exe',
        ProcessId: '812',
        Initiated: 'true',
        DestinationIp: '203.0.113.9',
        DestinationPort: '4444',
      },
    },
  },
];
const logFile = join(dir, 'sysmon.jsonl');
writeFileSync(logFile, LOG.map((e) => JSON.stringify(e)).join('\n'));

interface F {
  rule: { id: string; ruleset: string };
  severity: string;
  fingerprint: string;
  event?: { code?: string };
  winlog?: { channel?: string; record_id?: number };
  dns?: { question: { name: string } };
  destination?: { ip?: string; port?: number };
  evidence: {
    intel?: { indicator: string; source: string; confidence: number; via?: string };
    seen_in?: string[];
  };
}

function hunt(home: string, extra: string[] = []): { code: number; findings: F[]; err: string } {
  const r = spawnSync(process.execPath, [bin, 'hunt', logFile, '--format', 'jsonl', ...extra], {
    encoding: 'utf8',
    env: { ...process.env, DEMINER_HOME: home },
    timeout: 60_000,
  });
  const findings = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as F);
  return { code: r.status ?? -1, findings, err: r.stderr };
}

const intelIds = (fs: F[]) => fs.map((f) => f.rule.id).filter((id) => id.startsWith('deminer.intel.'));

test('hunt checks Sysmon DNS queries and connections against intel beside the Sigma rules', () => {
  const home = mkdtempSync(join(dir, 'home-'));
  const r = hunt(home);
  assert.equal(r.code, 1, r.err);
  const dns = r.findings.find((f) => f.rule.id === 'deminer.intel.pool_dns');
  assert.ok(dns, r.err);
  assert.equal(dns.rule.ruleset, 'builtin');
  assert.equal(dns.severity, 'high');
  assert.deepEqual(dns.event, { code: '22' });
  assert.deepEqual(dns.winlog, { channel: SYSMON, record_id: 41 });
  assert.equal(dns.dns?.question.name, 'pool.minexmr.com');
  assert.equal(dns.evidence.intel?.indicator, 'minexmr.com');
  assert.equal(dns.evidence.intel?.source, 'deminer-pools');
  const conn = r.findings.find((f) => f.rule.id === 'deminer.intel.pool_connection');
  assert.ok(conn);
  assert.deepEqual(conn.destination, { ip: '203.0.113.9', port: 4444 });
  assert.deepEqual(conn.winlog, { channel: SYSMON, record_id: 42 });
  assert.equal(conn.evidence.intel?.via, 'pool.minexmr.com');
  // One pool matcher: the connection to the address the lookup answered is the same pool, met twice.
  assert.deepEqual(dns.evidence.seen_in, ['sysmon:22']);
  assert.deepEqual(conn.evidence.seen_in, ['sysmon:22', 'sysmon:3']);
  // One finding per sighting: the Sigma rules naming the listed pools (rules/network, written from the
  // same list) are covered by the matcher, not run beside it.
  const covered = new Set(['4eb031dc-4d50-5a2c-b036-02f7081d5ca2', 'e2352fe1-5cf9-5ae3-bb2c-5208823ed126']);
  assert.deepEqual(
    r.findings.filter((f) => covered.has(f.rule.id)),
    [],
  );
  assert.equal(r.findings.filter((f) => f.winlog?.record_id === 41).length, 1, 'the lookup: one finding');
  assert.deepEqual(
    hunt(home)
      .findings.map((f) => f.fingerprint)
      .sort(),
    r.findings.map((f) => f.fingerprint).sort(),
  );
});

test('hunt --no-intel leaves the intel engine out; the shipped pool list stays', () => {
  const r = hunt(mkdtempSync(join(dir, 'home-')), ['--no-intel']);
  // The pool check reads the one shipped pool list itself (docs/network.md), so the pool is still
  // known; what goes is the engine: configured feeds, its allow-list and its passive DNS.
  assert.deepEqual(intelIds(r.findings).sort(), ['deminer.intel.pool_connection', 'deminer.intel.pool_dns']);
  for (const f of r.findings)
    if (f.rule.id.startsWith('deminer.intel.')) assert.equal(f.evidence.intel?.source, 'deminer-pools');
});

test('an allow-listed pool gives no intel finding', () => {
  const home = mkdtempSync(join(dir, 'home-'));
  const cfg = join(home, 'config.yaml');
  writeFileSync(cfg, 'intel:\n  allow:\n    domains: [minexmr.com]\n');
  const u = spawnSync(process.execPath, [bin, 'intel', 'update', '--config', cfg], {
    encoding: 'utf8',
    env: { ...process.env, DEMINER_HOME: home },
  });
  assert.equal(u.status, 0, u.stderr);
  assert.deepEqual(intelIds(hunt(home).findings), []);
});
