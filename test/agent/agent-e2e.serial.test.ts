/**
 * End to end: the real server on loopback (SQLite in a temporary folder), a
 * simulated hidden miner (test/sim), the real /proc, and the agent, first as
 * a user runs it (`deminer agent --once`), then in-process while the
 * server (`deminer serve` in its own process) is SIGKILLed and restarted:
 * what it found meanwhile is spooled and stored exactly once when the
 * server is back.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AgentSummary, runAgent } from '../../src/agent/agent.ts';
import type { Finding } from '../../src/core/finding.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store, StoredFinding } from '../../src/store/types.ts';
import {
  cannotRun,
  cleanup,
  dropSim,
  onCleanup,
  REPO,
  runDeminer,
  startPool,
  startSim,
} from '../sim/harness.ts';

const reason = cannotRun();

interface Serve {
  child: ChildProcess;
  url: string;
  port: number;
  exited: Promise<number | null>;
}

/** `deminer serve` in a process of its own, on `port` (0: any); resolves once it says where it listens. */
function startServe(data: string, port: number): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin/deminer.js'), 'serve', '--port', String(port), '--data', data, '--log-level', 'warn'],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  onCleanup(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  let err = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no "serving on" line within 60 s; stderr:\n${err}`)),
      60_000,
    );
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /deminer: serving on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1]!, port: Number(m[2]), exited });
      }
    });
    child.on('exit', (code) => fail(new Error(`serve exited with ${code}:\n${err}`)));
  });
}

async function enrolmentSecret(server: RunningServer): Promise<string> {
  const { secret } = await server.store.createEnrolment({
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    uses: 1,
    createdBy: 'test',
  });
  return secret;
}

async function allFindings(from: RunningServer | Store, host?: string): Promise<StoredFinding[]> {
  const store = 'store' in from ? from.store : from;
  const out: StoredFinding[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listFindings({
      limit: 500,
      ...(host ? { host } : {}),
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor);
  return out;
}

async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  context: () => string = () => '',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${context() ? `; ${context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('deminer agent against the real server', { skip: reason }, () => {
  if (reason) process.stdout.write(`# skipped: ${reason}\n`);
  let dir: string;
  let work: string;
  let pool: Awaited<ReturnType<typeof startPool>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deminer-agent-e2e-'));
    // The dropper's favourite place: a hidden folder under /tmp.
    work = mkdtempSync('/tmp/.deminer-agent-e2e-');
    onCleanup(() => rmSync(work, { recursive: true, force: true }));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    pool = await startPool();
  });
  after(() => cleanup());

  test('deminer agent --once enrols, finds a running hidden miner, and the server stores its finding', async () => {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dir, 'data-once'),
      logger: false,
    });
    try {
      const exe = dropSim(work, 'kswapd0');
      const sim = await startSim({
        exe,
        argv0: 'kswapd0',
        env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '1', SIM_NAME: 'kswapd0', SIM_DELETE: '1' },
      });
      onCleanup(() => sim.child.kill('SIGKILL'));
      const state = join(dir, 'state-once');
      const secret = await enrolmentSecret(server);
      const r = await runDeminer(
        ['agent', '--server', server.url, '--enroll', secret, '--state', state, '--once', '--window', '2s'],
        { timeoutMs: 90_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(join(state, 'state.json')).mode & 0o777, 0o600, 'the token file is private');
      assert.equal(statSync(state).mode & 0o777, 0o700);
      const stored = await allFindings(server);
      const mine = stored.find((s) => s.finding.process?.pid === sim.pid);
      assert.ok(
        mine,
        `a finding on pid ${sim.pid}; stored: ${stored.map((s) => `${s.finding.rule.id} ${s.finding.process?.pid}`).join(', ')}`,
      );
      assert.ok(['high', 'critical'].includes(mine.finding.severity), mine.finding.message);
      assert.equal(mine.finding.process?.executable, exe);
      const hosts = await server.store.listHosts({});
      assert.equal(hosts.items.length, 1);
      assert.equal(mine.finding.host.name, hosts.items[0]!.name);
      assert.equal(hosts.items[0]!.agent, true);
      const metrics = await server.store.listMetrics({ hostId: hosts.items[0]!.id });
      assert.ok(
        metrics.some((m) => m.subject === 'host'),
        'host metrics arrived',
      );

      // A second run reuses the saved token: no secret needed (and the one-use secret is spent).
      const again = await runDeminer(
        ['agent', '--server', server.url, '--state', state, '--once', '--window', '1s'],
        {
          timeoutMs: 90_000,
        },
      );
      assert.equal(again.status, 0, again.stderr);
      assert.equal((await server.store.listHosts({})).items.length, 1, 'still one host');
      sim.child.kill('SIGKILL');
    } finally {
      await server.close();
    }
  });

  test('server SIGKILLed and restarted while the agent scans: findings spool, and each is stored exactly once', async () => {
    const data = join(dir, 'data-fault');
    // The server as users run it, in its own process, so that it can be killed outright.
    let serve = await startServe(data, 0);
    const port = serve.port;
    // The test reads the same SQLite store beside the server (WAL), as `token create` does.
    const store = await openStore({ dataDir: data });
    const { secret } = await store.createEnrolment({
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      uses: 1,
      createdBy: 'test',
    });
    // A miner already running when the agent starts, so there is something to deliver before the kill
    // whatever else the machine runs (a clean CI machine may give no other finding).
    const first = await startSim({
      exe: dropSim(work, 'kthreadd'),
      argv0: 'kthreadd',
      env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '0.3', SIM_NAME: 'kthreadd', SIM_DELETE: '1' },
    });
    onCleanup(() => first.child.kill('SIGKILL'));
    // How many times the agent queued each fingerprint: the server must have counted exactly that.
    const queued = new Map<string, number>();
    let second: { pid: number; child: ChildProcess } | undefined;
    let killedOnQueue = false;
    let scans = 0;
    let pending = 0;
    const ac = new AbortController();
    const logs: string[] = [];
    const running: Promise<AgentSummary> = runAgent({
      server: serve.url,
      enrollSecret: secret,
      stateDir: join(dir, 'state-fault'),
      intervalMs: 2000,
      windowMs: 500,
      signal: ac.signal,
      log: (m) => logs.push(m),
      onScan: (s) => {
        scans++;
        pending = s.spool.batches;
      },
      onQueued: (fs: readonly Finding[]) => {
        for (const f of fs) queued.set(f.fingerprint, (queued.get(f.fingerprint) ?? 0) + 1);
        // The second miner's finding is queued: kill the server now, while the agent is about to send it.
        if (second && !killedOnQueue && fs.some((f) => f.process?.pid === second!.pid)) {
          killedOnQueue = true;
          serve.child.kill('SIGKILL');
        }
      },
    });
    const agentLogs = () => logs.join(' | ');
    try {
      await until(
        'the first miner stored',
        async () => (await allFindings(store)).some((f) => f.finding.process?.pid === first.pid),
        60_000,
        agentLogs,
      );
      // A second miner starts; the server dies (SIGKILL, no clean stop) as its finding is queued.
      second = await startSim({
        exe: dropSim(work, 'kworker'),
        argv0: 'kworker',
        env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '0.3', SIM_NAME: 'kworker' },
      });
      onCleanup(() => second?.child.kill('SIGKILL'));
      await until('the second miner queued and the server killed', () => killedOnQueue, 60_000, agentLogs);
      await serve.exited;
      const before = scans;
      await until('three scans while the server is dead', () => scans >= before + 3, 60_000, agentLogs);
      assert.ok(pending > 0, 'batches wait in the spool');
      const missed = [...queued.keys()];

      serve = await startServe(data, port);
      // Metrics are spooled after every scan: the folder is empty between a delivery and the next scan.
      const spoolDir = join(dir, 'state-fault', 'spool');
      const spooled = () => readdirSync(spoolDir).filter((f) => f.endsWith('.json')).length;
      await until('the spool to empty', () => spooled() === 0, 90_000, agentLogs);
      ac.abort();
      const summary = await running;
      assert.equal(summary.spool.droppedFindings, 0);
      assert.equal(summary.spool.corrupt, 0);

      const stored = await allFindings(store);
      const byFp = new Map(stored.map((s) => [s.finding.fingerprint, s]));
      assert.ok(
        stored.some((s) => s.finding.process?.pid === second!.pid),
        `the miner found as the server died was stored; logs: ${agentLogs()}`,
      );
      for (const fp of missed) assert.ok(byFp.has(fp), `${fp} stored`);
      // Exactly once: one row per fingerprint, and each counted as often as it was queued (no batch twice, none lost).
      assert.equal(stored.length, queued.size, 'one row per queued fingerprint');
      for (const [fp, n] of queued) assert.equal(byFp.get(fp)?.count, n, `count of ${fp}`);
    } finally {
      ac.abort();
      await running.catch(() => undefined);
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      serve.child.kill('SIGTERM');
      await serve.exited;
      await store.close();
    }
  });
});
