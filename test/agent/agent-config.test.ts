/**
 * End to end: a `never_alert` list set through the API (PUT
 * /api/v1/agent-config) reaches a running agent with its next heartbeat, and
 * the agent stops sending that rule. The real server on loopback (SQLite in
 * a temporary folder) and the agent in-process; the finding comes from a
 * file (a crontab that starts a miner, under a scratch root the agent reads
 * persistence files from), so no simulated miner is needed and it fires on
 * every scan.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type AgentSummary, runAgent } from '../../src/agent/agent.ts';
import { startServer } from '../../src/server/index.ts';

const RULE = 'deminer.persistence.cron';

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

test(
  'a never_alert list set through the API stops a running agent sending that rule',
  { skip: process.platform === 'linux' ? false : 'the agent scans /proc: Linux only', timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deminer-agent-config-'));
    const root = join(dir, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(
      join(root, 'etc', 'crontab'),
      '* * * * * root /tmp/.x/xmrig -o stratum+tcp://pool.example.net:3333 --donate-level 1\n',
    );
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir, 'data'),
      logger: false,
    });
    const ac = new AbortController();
    const logs: string[] = [];
    let scans = 0;
    /** The scans (1-based) whose queued findings held the rule. */
    const withRule: number[] = [];
    let running: Promise<AgentSummary> | undefined;
    const context = () =>
      `scans ${scans}, rule queued in scans [${withRule.join(', ')}]; log: ${logs.join(' | ')}`;
    try {
      const { token: admin } = await server.store.createToken({ role: 'admin', name: 'test admin' });
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
        // Every scan sends what it finds again, so that "no longer sent" is seen at once.
        resendAfterMs: 0,
        signal: ac.signal,
        log: (m) => logs.push(m),
        onQueued: (fs) => {
          // Called during a scan, before its onScan.
          if (fs.some((f) => f.rule.id === RULE)) withRule.push(scans + 1);
        },
        onScan: () => {
          scans++;
        },
      });

      await until('the rule queued in two scans', () => withRule.length >= 2, 90_000, context);
      await until(
        'the finding stored',
        async () => (await server.store.listFindings({ rule: RULE })).items.length === 1,
        60_000,
        context,
      );

      const put = await fetch(`${server.url}/api/v1/agent-config`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ interval_s: 5, never_alert: [RULE] }),
      });
      assert.equal(put.status, 200, await put.text());
      const putAfterScan = scans;

      // The agent heartbeats at the start of every scan: within a scan or two the rule is muted. Three
      // scans in a row without it, after the last one that had it, show that it stays so.
      await until(
        'three scans in a row without the rule',
        () => scans >= Math.max(putAfterScan, ...withRule) + 3,
        120_000,
        context,
      );
      // Loose on purpose (a heartbeat may still be in flight on a loaded machine): picked up promptly, not eventually.
      const last = Math.max(...withRule);
      assert.ok(
        last <= putAfterScan + 5,
        `the rule was still queued ${last - putAfterScan} scans after the change; ${context()}`,
      );
      const finding = (await server.store.listFindings({ rule: RULE })).items[0];
      assert.ok(finding, 'what was sent before stays stored');
    } finally {
      ac.abort();
      await running?.catch(() => undefined);
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
