/**
 * `deminer agent install|uninstall` into a test folder (never /etc), and
 * `sendFindings` (what `hunt|sniff --server --token` use) against the real server.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClientError } from '../../src/agent/client.ts';
import { runBatches, sendFindings } from '../../src/agent/send-findings.ts';
import { makeFinding } from '../../src/core/finding.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { runDeminer } from '../sim/harness.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'deminer-agent-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('deminer agent install / uninstall', () => {
  test('writes a hardened unit without the secret, keeps the secret 0600 in the state folder, and removes it again', async () => {
    const units = join(dir, 'units');
    mkdirSync(units);
    const state = join(dir, 'agent-state');
    const secret = 'dmr_enrol_test_secret_value';
    const r = await runDeminer([
      'agent',
      'install',
      '--server',
      'https://deminer.example:7878',
      '--enroll',
      secret,
      '--state',
      state,
      '--unit-dir',
      units,
      '--interval',
      '30s',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /not started; to start it: systemctl daemon-reload && systemctl enable --now/);
    const unitFile = join(units, 'deminer-agent.service');
    const unit = readFileSync(unitFile, 'utf8');
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      `ReadWritePaths=${state}`,
      'ProtectHome=read-only',
      'PrivateTmp=yes',
      'Restart=always',
      'WantedBy=multi-user.target',
    ])
      assert.ok(unit.split('\n').includes(line), `${line} in the unit`);
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='))!;
    assert.match(exec, /"agent" "--server" "https:\/\/deminer\.example:7878" "--state" /);
    assert.match(exec, /"--interval" "30s"/);
    assert.ok(!unit.includes(secret), 'the secret is not in the world-readable unit');
    assert.equal(statSync(unitFile).mode & 0o777, 0o644);
    assert.equal(readFileSync(join(state, 'enrol-secret'), 'utf8').trim(), secret);
    assert.equal(statSync(join(state, 'enrol-secret')).mode & 0o777, 0o600);
    assert.equal(statSync(state).mode & 0o777, 0o700);

    const u = await runDeminer(['agent', 'uninstall', '--unit-dir', units]);
    assert.equal(u.status, 0, u.stderr);
    assert.equal(existsSync(unitFile), false);
    assert.equal(existsSync(state), true, 'the state folder stays without --purge');
  });

  test('usage errors: no server, a bad pin, a missing unit folder, a too short interval', async () => {
    const cases: string[][] = [
      ['agent', '--once'],
      ['agent', '--server', 'ftp://x', '--once'],
      ['agent', '--server', 'https://x', '--server-pin', 'abc', '--once'],
      ['agent', '--server', 'http://x', '--interval', '1s', '--once'],
      ['agent', 'install', '--server', 'http://x', '--enroll', 's', '--unit-dir', join(dir, 'nope')],
    ];
    for (const args of cases) {
      const r = await runDeminer(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^deminer: /);
    }
  });
});

describe('sending a run to the server (hunt/sniff --server --token)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), logger: false });
  });
  after(async () => {
    await server?.close();
  });

  const findings = Array.from({ length: 2500 }, (_, i) =>
    makeFinding({
      rule: { id: 'deminer.net.pool_port', name: 'Pool port', ruleset: 'builtin' },
      severity: 'medium',
      techniques: ['T1571'],
      host: `host-${i % 7}`,
      subject: [`198.51.100.${i % 250}:${3000 + i}`],
      message: 'Connection to a mining pool port.',
    }),
  );

  test('batches of at most 1000 with run-derived keys: the same run sent twice is stored once', async () => {
    const batches = runBatches(findings);
    assert.deepEqual(
      batches.map((b) => b.items.length),
      [1000, 1000, 500],
    );
    assert.deepEqual(
      runBatches([...findings].reverse()).map((b) => b.key),
      batches.map((b) => b.key),
      'the keys depend on what was found, not on the order',
    );
    assert.match(batches[0]!.key, /^deminer-run-[0-9a-f]{32}-1of3$/);
    const { token } = await server.store.createToken({ role: 'sensor', name: 'sensor' });
    const first = await sendFindings(findings, { server: server.url, token });
    assert.deepEqual(first, { batches: 3, stored: 2500, duplicates: 0, replayed: 0 });
    const second = await sendFindings(findings, { server: server.url, token });
    assert.equal(second.replayed, 3);
    const fp = findings[1234]!.fingerprint;
    assert.equal((await server.store.getFinding(fp))?.count, 1);
  });

  test('a bad token fails at once with a stable code', async () => {
    await assert.rejects(
      sendFindings(findings.slice(0, 3), { server: server.url, token: 'dmr_bad' }),
      (e: unknown) => e instanceof ApiClientError && e.code === 'API_UNAUTHORIZED' && e.status === 401,
    );
  });
});
