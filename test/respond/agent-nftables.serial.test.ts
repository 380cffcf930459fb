/**
 * Isolation on the host's own firewall through its agent (backend
 * `agent-nftables`), for real: the server on a veth leg in the root
 * namespace, the agent (`deminer agent`, the real bin) in a network
 * namespace with a UTS namespace of its own (its own host name), a pool
 * beside the server. The API isolates the host: the agent learns it at its
 * heartbeat, loads the nftables table, reports; the host then reaches the
 * server and nothing else. Killed and restarted with an empty firewall (a
 * reboot), the agent puts the table back before it hears from the server.
 * Released, the table goes. Serial: it times live traffic.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isolationSettings } from '../../src/respond/isolate/server-config.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { Api } from '../server/helpers.ts';
import {
  addHost,
  cannotNft,
  DEMINER,
  deminer,
  POOL,
  probe,
  quiet,
  REPO,
  sh,
  skipOrFail,
  sleep,
} from './netns.ts';

const id = process.pid % 100_000;
const NS = `dmag${id}`;
const DEV = `dmag${id}h`;
const PEER = `dmag${id}b`;
/** 203.0.113.0/24 (TEST-NET-3): the host, the server and a pool beside it. */
const HOST_IP = '203.0.113.10';
const SERVER_IP = '203.0.113.1';
const POOL_IP = '203.0.113.2';
const NAME = `agent-nft-${id}`;

function cannotUnshare(): string | undefined {
  return spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status === 0
    ? undefined
    : 'unshare (util-linux) is not installed';
}

function hasTable(): boolean {
  return (
    spawnSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'deminer'], { stdio: 'ignore' })
      .status === 0
  );
}

/**
 * GET /health from inside the namespace: the management channel. Asynchronous: the server
 * runs in this process, and a synchronous child would stop it from answering.
 */
function reachesServer(url: string): Promise<boolean> {
  const js =
    'fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(2))';
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', js, `${url}/api/v1/health`], {
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code === 0)));
}

/** The real agent in the namespace, in a UTS namespace whose host name is NAME. */
function startAgent(
  server: string,
  state: string,
  secret?: string,
): { child: ChildProcess; log: () => string } {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      'unshare',
      '--uts',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      NAME,
      process.execPath,
      DEMINER,
      'agent',
      '--server',
      server,
      ...(secret ? ['--enroll', secret] : []),
      '--state',
      state,
      '--interval',
      '2s',
      '--no-intel',
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString();
  });
  return { child, log: () => log };
}

async function until<T>(
  what: string,
  get: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test(
  'agent-nftables: isolated on its own firewall through its agent, kept across a restart, released',
  { timeout: 180_000 },
  async (t) => {
    if (skipOrFail(t, cannotNft() ?? cannotUnshare())) return;
    const dir = mkdtempSync(join(tmpdir(), 'deminer-agent-nft-'));
    const state = join(dir, 'agent');
    const procs: ChildProcess[] = [];
    let agent: ReturnType<typeof startAgent> | undefined;
    let server: RunningServer | undefined;
    try {
      addHost(NS, DEV, PEER, `${HOST_IP}/24`);
      sh('ip', ['addr', 'add', `${SERVER_IP}/24`, 'dev', PEER]);
      sh('ip', ['addr', 'add', `${POOL_IP}/24`, 'dev', PEER]);
      const pool = spawn(process.execPath, [POOL, '--host', POOL_IP, '--port', '3333'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      procs.push(pool);
      await new Promise<void>((resolve) => pool.stdout!.once('data', () => resolve()));

      server = await startServer({
        host: SERVER_IP,
        port: 0,
        dataDir: join(dir, 'data'),
        logger: false,
        agentConfig: { interval_s: 2 },
        isolation: { settings: isolationSettings({ backends: { 'agent-nftables': {} } }), tickMs: 200 },
      });
      const api = new Api(server.url);
      const admin = (await server.store.createToken({ role: 'admin', name: 'test admin' })).token;
      const { secret } = await server.store.createEnrolment({
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        uses: 1,
        createdBy: 'test',
      });
      assert.ok(probe(NS, POOL_IP, 3333), 'before: the host reaches the pool');

      agent = startAgent(server.url, state, secret);
      const host = await until('the agent to enrol', async () => {
        const r = await api.get(`/hosts?text=${NAME}`, admin);
        return r.body.items.find(
          (h: { name: string; addresses: string[] }) => h.name === NAME && h.addresses.includes(HOST_IP),
        );
      });

      const decided = Date.now();
      const r = await api.post(`/hosts/${host.id}/isolate`, admin, {
        backend: 'agent-nftables',
        reason: 'test',
      });
      assert.equal(r.status, 202, r.text);
      const iso = await until('isolated', async () => {
        const x = (await api.get(`/hosts/${host.id}/isolation`, admin)).body.isolation;
        if (x?.state === 'failed') assert.fail(`failed: ${JSON.stringify(x.last_error)}\n${agent!.log()}`);
        return x?.state === 'isolated' ? x : undefined;
      });
      const tookMs = Date.parse(iso.isolated_at) - decided;
      t.diagnostic(
        `API decision -> the agent's table read back and reported: ${tookMs} ms (the agent heartbeats every 2 s)`,
      );
      assert.ok(hasTable(), 'the table is in the namespace');
      assert.ok(!probe(NS, POOL_IP, 3333, 800), 'the isolated host no longer reaches the pool');
      assert.ok(await reachesServer(server.url), 'it still reaches the deminer server');
      assert.ok(existsSync(join(state, 'isolation.json')), 'the isolation is in the state folder');
      const report = iso.actions.find((a: { kind: string }) => a.kind === 'report');
      assert.equal(report.actor, `agent:${NAME}`);
      assert.equal(report.detail.trigger, 'directive');
      assert.ok(
        iso.actions.some(
          (a: { kind: string; detail: { step?: { argv?: string[] } } }) =>
            a.kind === 'exchange' && a.detail.step?.argv?.includes('-f'),
        ),
      );
      assert.ok(
        iso.verification.present.some((p: string) => p.startsWith(`allow ${SERVER_IP}`)),
        JSON.stringify(iso.verification),
      );

      // A reboot: the agent dies, the firewall comes back empty; the agent puts the table back on its own.
      agent.child.kill('SIGKILL');
      await new Promise((res) => agent!.child.once('exit', res));
      quiet('ip', ['netns', 'exec', NS, 'nft', 'delete', 'table', 'inet', 'deminer']);
      assert.ok(!hasTable());
      const restarted = Date.now();
      agent = startAgent(server.url, state);
      await until('the table back after the restart', () => hasTable() || undefined, 30_000);
      t.diagnostic(`agent restart -> table back in ${Date.now() - restarted} ms (node start-up included)`);
      assert.ok(!probe(NS, POOL_IP, 3333, 800), 'isolated again after the restart');
      await until('the restart report', async () => {
        const x = (await api.get(`/hosts/${host.id}/isolation`, admin)).body.isolation;
        return (
          x.actions.some(
            (a: { kind: string; detail: { trigger?: string } }) =>
              a.kind === 'report' && a.detail.trigger === 'restart',
          ) || undefined
        );
      });

      // Released from the command line, through the server and the agent: exit 0 once read back gone.
      const again = await deminer([
        'isolate',
        NAME,
        '--backend',
        'nftables',
        '--server',
        server.url,
        '--token',
        admin,
      ]);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /already isolated/);
      const rel = await deminer([
        'release',
        NAME,
        '--backend',
        'nftables',
        '--server',
        server.url,
        '--token',
        admin,
      ]);
      assert.equal(rel.status, 0, rel.stderr);
      assert.match(rel.stdout, /released via its agent/);
      t.diagnostic(`deminer release through the server and the agent: ${rel.ms} ms (node start-up included)`);
      assert.equal((await api.get(`/hosts/${host.id}/isolation`, admin)).body.isolation.state, 'released');
      assert.ok(!hasTable(), 'the table is gone');
      assert.ok(!existsSync(join(state, 'isolation.json')), 'and so is the saved isolation');
      assert.ok(probe(NS, POOL_IP, 3333), 'after release the host reaches the pool again');
    } finally {
      agent?.child.kill('SIGKILL');
      for (const p of procs) p.kill('SIGKILL');
      await server?.close();
      quiet('ip', ['netns', 'del', NS]);
      quiet('ip', ['link', 'del', PEER]);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
