/**
 * The agent's posture step: it runs the Linux audit (here on a prepared tree,
 * the agent's fsRoot, as `deminer audit --root` reads it) at start and then
 * only at its own interval, never with each scan, and its failures reach the
 * server as findings of rule `deminer.posture.<id>`. The real server on
 * loopback (SQLite in a temporary folder), the agent in-process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type AgentSummary, runAgent } from '../../src/agent/agent.ts';
import type { Finding } from '../../src/core/finding.ts';
import { startServer } from '../../src/server/index.ts';
import { bareLinuxRoot } from '../audit/fixtures.ts';
import { runDeminer } from '../sim/harness.ts';

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  context: () => string,
) {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; ${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const skip = process.platform === 'linux' ? false : 'the agent scans /proc: Linux only';

test(
  'the agent audits its tree at start, not with every scan, and the server stores the failures as posture findings',
  { skip, timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deminer-agent-posture-'));
    // No sudo (n/a), no module support (n/a), no Yama (fail), /tmp without noexec (fail).
    const root = bareLinuxRoot();
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir, 'data'),
      logger: false,
    });
    const ac = new AbortController();
    const logs: string[] = [];
    const posture: Finding[] = [];
    let scans = 0;
    let running: Promise<AgentSummary> | undefined;
    // Rounds of the agent's loop: a scan that fails (a checkout being edited) is a round too; the
    // posture step does not depend on the scan.
    const rounds = () => scans + logs.filter((l) => l.startsWith('scan failed')).length;
    const context = () => `rounds ${rounds()}; log: ${logs.slice(-20).join(' | ')}`;
    try {
      const { secret } = await server.store.createEnrolment({
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        uses: 1,
        createdBy: 'test',
      });
      running = runAgent({
        server: server.url,
        enrollSecret: secret,
        stateDir: join(dir, 'state'),
        fsRoot: root,
        intervalMs: 2000,
        windowMs: 200,
        intel: false,
        auditIntervalMs: 24 * 3600_000,
        auditFirstDelayMs: 0,
        signal: ac.signal,
        log: (m) => logs.push(m),
        onQueued: (fs) => posture.push(...fs.filter((f) => f.rule.id.startsWith('deminer.posture.'))),
        onScan: () => {
          scans++;
        },
      });
      await until('three rounds', () => rounds() >= 3, 120_000, context);
      const audits = logs.filter((l) => l.startsWith('posture audit'));
      assert.equal(audits.length, 1, `one audit in ${rounds()} rounds; ${context()}`);
      assert.match(audits[0]!, /failed/);
      const rules = posture.map((f) => f.rule.id).sort();
      assert.ok(rules.includes('deminer.posture.linux.sysctl.ptrace_scope'), rules.join(', '));
      assert.ok(rules.includes('deminer.posture.linux.mount.tmp_noexec'), rules.join(', '));
      // Not applicable is no failure: nothing is sent for sudo or module loading.
      assert.ok(!rules.includes('deminer.posture.linux.sudo.root_grants'));
      assert.ok(!rules.includes('deminer.posture.linux.sysctl.modules_disabled'));
      // Once each: the audit did not run again with the later scans.
      assert.equal(new Set(rules).size, rules.length);
      const yama = posture.find((f) => f.rule.id === 'deminer.posture.linux.sysctl.ptrace_scope')!;
      assert.equal((yama.evidence as { observed: unknown }).observed, 'Yama not enabled');
      assert.deepEqual(yama.threat.technique, ['T1003.007', 'T1055.008']);

      await until(
        'the posture findings stored',
        async () =>
          (await server.store.listFindings({ rule: 'deminer.posture.linux.sysctl.ptrace_scope' })).items
            .length === 1,
        60_000,
        context,
      );
      const stored = (await server.store.listFindings({ rule: 'deminer.posture.linux.mount.tmp_noexec' }))
        .items;
      assert.equal(stored.length, 1);
      assert.equal(stored[0]!.finding.host.name, posture[0]!.host.name);
    } finally {
      ac.abort();
      await running?.catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('auditIntervalMs 0: no posture audit, nothing of it sent', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-agent-posture-off-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), logger: false });
  const logs: string[] = [];
  const posture: Finding[] = [];
  try {
    const { secret } = await server.store.createEnrolment({
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      uses: 1,
      createdBy: 'test',
    });
    const summary = await runAgent({
      server: server.url,
      enrollSecret: secret,
      stateDir: join(dir, 'state'),
      fsRoot: bareLinuxRoot(),
      once: true,
      windowMs: 200,
      intel: false,
      auditIntervalMs: 0,
      // Due at once but switched off: nothing runs.
      auditFirstDelayMs: 0,
      log: (m) => logs.push(m),
      onQueued: (fs) => posture.push(...fs.filter((f) => f.rule.id.startsWith('deminer.posture.'))),
    });
    assert.equal(summary.pending, 0);
    assert.deepEqual(posture, []);
    assert.ok(!logs.some((l) => l.startsWith('posture audit')), logs.join(' | '));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deminer agent: --audit-interval below a minute or not a duration is a usage error', async () => {
  for (const v of ['10s', 'soon']) {
    const r = await runDeminer(['agent', '--server', 'http://127.0.0.1:1', '--audit-interval', v, '--once']);
    assert.equal(r.status, 2, `${v}: ${r.stderr}`);
    assert.match(r.stderr, /audit-interval/);
  }
  const help = await runDeminer(['agent', '--help']);
  assert.match(help.stdout, /--no-audit/);
});
