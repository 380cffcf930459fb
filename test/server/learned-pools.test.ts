/**
 * Learned pools through the platform: a sensor that saw a host mine to an
 * unlisted pool reports it (a mining-protocol finding); the server lists the
 * fleet's learned pools; the next hunt or sensor run with --server knows them
 * from its first record, and an agent's host scan checks its sockets against
 * them. Real server on loopback, real SQLite, the real CLI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeFinding } from '../../src/core/finding.ts';
import { hostPoolIntel } from '../../src/detect/host/pool-intel.ts';
import { sqliteOpener, withServer } from './helpers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'deminer.js');
const dir = mkdtempSync(join(tmpdir(), 'deminer-learned-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POOL_IP = '203.0.113.61';
const POOL_IP2 = '203.0.113.62';
const POOL_NAME = 'stratum.unlisted-pool.example';

const mining = makeFinding({
  rule: { id: 'deminer.network.mining_protocol', name: 'Mining protocol on the wire', ruleset: 'builtin' },
  severity: 'critical',
  techniques: ['T1496'],
  host: '198.51.100.23',
  subject: [POOL_NAME],
  message: '198.51.100.23 is mining',
  timestamp: new Date(Date.now() - 60_000).toISOString(),
  destination: { ip: POOL_IP, port: 3333 },
  evidence: {
    protocol: 'stratum',
    protocols: ['stratum'],
    destinations: [`${POOL_IP}:3333`, `${POOL_IP2}:3333`, 'not an endpoint'],
    pool_name: POOL_NAME,
  },
});

/** Another Windows host, later: it resolves the pool's name and connects to its second address. */
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const log = join(dir, 'ws-09.jsonl');
writeFileSync(
  log,
  [
    {
      '@timestamp': '2026-11-30T09:00:00.000Z',
      host: { name: 'ws-09' },
      winlog: {
        channel: SYSMON,
        event_id: 22,
        record_id: 1,
        computer_name: 'ws-09',
        event_data: { Image: 'C:\\ProgramData\\x\\svc.exe', QueryName: POOL_NAME, QueryStatus: '0' },
      },
    },
    {
      '@timestamp': '2026-11-30T09:00:01.000Z',
      host: { name: 'ws-09' },
      winlog: {
        channel: SYSMON,
        event_id: 3,
        record_id: 2,
        computer_name: 'ws-09',
        event_data: {
          Image: 'C:\\ProgramData\\x\\svc.exe',
          Initiated: 'true',
          DestinationIp: POOL_IP2,
          DestinationPort: '3333',
        },
      },
    },
  ]
    .map((e) => JSON.stringify(e))
    .join('\n'),
);

interface F {
  rule: { id: string };
  evidence: { intel?: { source: string; indicator: string }; seen_in?: string[] };
}

/** The CLI in a process of its own, asynchronously (the server under test answers in this one). */
async function hunt(extra: string[]): Promise<{ code: number; findings: F[]; err: string }> {
  const child = spawn(process.execPath, [bin, 'hunt', log, '--format', 'jsonl', ...extra], {
    env: { ...process.env, DEMINER_HOME: join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  // The pool matcher's findings (the built-in Sigma rules also see the connection's port).
  const findings = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as F)
    .filter((f) => f.rule.id.startsWith('deminer.intel.'));
  return { code, findings, err };
}

test('one sensor learns a pool; the server shares it; the next hunt and host scan know it', () =>
  withServer(sqliteOpener, async (h) => {
    const sensor = await h.token('sensor');
    const viewer = await h.token('viewer');
    const agent = await h.enrolAgent('web-3');

    // Nothing learned yet; the list needs a token, any role of the fleet may read it.
    assert.equal((await h.api.get('/intel/learned-pools')).status, 401);
    const empty = await h.api.get('/intel/learned-pools', sensor);
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body.items, []);

    const sent = await h.api.post('/findings', sensor, { items: [mining] }, { 'idempotency-key': 'learn-1' });
    assert.equal(sent.body?.stored, 1, sent.text);
    for (const token of [sensor, viewer, agent.token]) {
      const r = await h.api.get('/intel/learned-pools', token);
      assert.equal(r.status, 200, r.text);
      const byEndpoint = Object.fromEntries(
        (r.body.items as { endpoint: string }[]).map((i) => [i.endpoint, i]),
      );
      assert.deepEqual(Object.keys(byEndpoint).sort(), [`${POOL_IP}:3333`, `${POOL_IP2}:3333`]);
      assert.deepEqual(byEndpoint[`${POOL_IP2}:3333`], {
        endpoint: `${POOL_IP2}:3333`,
        ip: POOL_IP2,
        port: 3333,
        name: POOL_NAME,
        protocol: 'stratum',
        first_seen: (r.body.items as { first_seen: string }[])[0]!.first_seen,
        last_seen: (r.body.items as { last_seen: string }[])[0]!.last_seen,
      });
    }

    // Without the server, the hunt knows nothing of this pool (no list names it).
    const alone = await hunt([]);
    assert.deepEqual(alone.findings, [], alone.err);

    // With it, the lookup and the connection are both reported, from the fleet's learned pools.
    const fleet = await hunt(['--server', h.url, '--token', sensor]);
    assert.equal(fleet.code, 1, fleet.err);
    assert.match(fleet.err, /2 pool\(s\) learned by the fleet/);
    const ids = fleet.findings.map((f) => f.rule.id).sort();
    assert.deepEqual(ids, ['deminer.intel.pool_connection', 'deminer.intel.pool_dns']);
    for (const f of fleet.findings) assert.equal(f.evidence.intel?.source, 'deminer-learned');
    const conn = fleet.findings.find((f) => f.rule.id === 'deminer.intel.pool_connection')!;
    assert.deepEqual(conn.evidence.seen_in, ['sysmon:3']);

    // The agent's host scan: a socket to the learned endpoint is a listed pool once seeded.
    const intel = hostPoolIntel(undefined);
    assert.equal(intel.matchIp(POOL_IP, 3333, { where: 'socket', host: 'web-3' }), undefined);
    intel.seedLearned?.((await h.api.get('/intel/learned-pools', agent.token)).body.items);
    assert.deepEqual(intel.matchIp(POOL_IP, 3333, { where: 'socket', host: 'web-3' }), {
      indicator: `${POOL_IP}:3333`,
      source: 'deminer-learned',
      seenIn: ['socket'],
    });
  }));
