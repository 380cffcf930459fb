/**
 * `deminer up` as a newcomer runs it: a fresh data folder, one process, the
 * URL and an admin token printed, this host reporting within seconds, a clean
 * stop on SIGINT, and no second admin token on the next start.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');

interface Up {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startUp(data: string): Promise<Up> {
  const child = spawn(process.execPath, [bin, 'up', '--port', '0', '--data', data, '--interval', '2s'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /up on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
    if (m) return { child, url: m[1]!, stdout: () => out, stderr: () => err, exited };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`deminer up did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function api(url: string, path: string, token?: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(
    `${url}/api/v1${path}`,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return { status: r.status, body: await r.json() };
}

test('deminer up: URL and a one-time admin token, this host reporting within 30 s, clean stop', async () => {
  const data = mkdtempSync(join(tmpdir(), 'deminer-up-'));
  try {
    const up = await startUp(data);
    // The token is printed once the store is open, right after the URL.
    const until = Date.now() + 10_000;
    while (!/^dm_\S+\n/.test(up.stdout()) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const token = up.stdout().trim();
    assert.match(token, /^dm_[A-Za-z0-9_-]{40,}$/, 'stdout holds only the admin token');
    assert.equal((await api(up.url, '/health')).status, 200);
    assert.equal((await api(up.url, '/hosts')).status, 401, 'no token, no data');

    let hosts: { name: string; status: string; agent: boolean }[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await api(up.url, '/hosts', token);
      hosts = (r.body as { items: typeof hosts }).items;
      if (hosts.some((h) => h.agent && h.status === 'reporting')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(
      hosts.some((h) => h.agent && h.status === 'reporting'),
      `this host reports: ${JSON.stringify(hosts)}\n${up.stderr()}`,
    );

    up.child.kill('SIGINT');
    assert.equal(await up.exited, 0, up.stderr());

    // A second start on the same folder: the same host, and no new admin token.
    const again = await startUp(data);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(again.stdout(), '', 'the admin token is shown on the first start only');
    const r = await api(again.url, '/hosts', token);
    assert.equal((r.body as { items: unknown[] }).items.length, hosts.length, 'the agent kept its enrolment');
    again.child.kill('SIGINT');
    assert.equal(await again.exited, 0);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('hunt --server --token: a log hunt reports to the server as a sensor, once however often it is run', async () => {
  const { startServer } = await import('../../src/server/index.ts');
  const data = mkdtempSync(join(tmpdir(), 'deminer-send-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: data });
  try {
    const { token } = await server.store.createToken({ role: 'sensor', name: 'log hunt' });
    const run = (): Promise<{ code: number | null; out: string }> =>
      new Promise((res) => {
        const c = spawn(
          process.execPath,
          [
            bin,
            'hunt',
            'test/fixtures/hunt/winlogbeat-miner.jsonl',
            '-f',
            'jsonl',
            '-q',
            '--server',
            server.url,
          ],
          { cwd: root, env: { ...process.env, DEMINER_TOKEN: token }, stdio: ['ignore', 'pipe', 'ignore'] },
        );
        let out = '';
        c.stdout.setEncoding('utf8').on('data', (s: string) => {
          out += s;
        });
        c.once('exit', (code) => res({ code, out }));
      });
    const first = await run();
    assert.equal(first.code, 1);
    const sent = first.out.trim().split('\n').length;
    await run();
    const page = await server.store.listFindings({ limit: 500 });
    assert.equal(page.items.length, sent, 'every finding stored');
    assert.ok(
      page.items.every((f) => f.count === 1),
      'the same run sent again is replayed, not counted twice',
    );
  } finally {
    await server.close();
    rmSync(data, { recursive: true, force: true });
  }
});
