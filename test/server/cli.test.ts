/**
 * `deminer serve` and `deminer token create` as users run them: the real
 * command, a real store in a temporary folder, a real listening server.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../src/server/index.ts';
import { Api } from './helpers.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin/deminer.js');
const tmp = mkdtempSync(join(tmpdir(), 'deminer-serve-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TOKEN = /^[A-Za-z0-9._~+/=-]{20,}$/;

function deminer(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('token create prints only the new token, and the server accepts it', async () => {
  const data = join(tmp, 'token-data');
  const r = deminer(['token', 'create', '--role', 'viewer', '--name', 'ops dashboard', '--data', data]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const lines = r.out.split('\n');
  assert.equal(lines.length, 2, `one line and its newline: ${JSON.stringify(r.out)}`);
  assert.equal(lines[1], '');
  const token = lines[0]!;
  assert.match(token, TOKEN);

  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: data });
  try {
    const api = new Api(server.url);
    assert.equal((await api.get('/findings', token)).status, 200);
    assert.equal((await api.post('/findings', token, { items: [] })).status, 403, 'a viewer token, as asked');
  } finally {
    await server.close();
  }
});

test('token create refuses what it cannot do: agent role, two stores, unknown role (exit 2)', () => {
  const data = join(tmp, 'refusals');
  for (const args of [
    ['token', 'create', '--role', 'agent', '--data', data],
    ['token', 'create', '--role', 'admin', '--data', data, '--database', 'postgres://x@127.0.0.1/db'],
    ['token', 'create', '--data', data],
  ]) {
    const r = deminer(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '', 'nothing on stdout');
    assert.match(r.err, /role|--data|--database/);
  }
});

test('serve: listens on the port it prints, takes tokens made while it runs, exits 0 on SIGTERM', async () => {
  const data = join(tmp, 'serve-data');
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--data', data, '--log-level', 'warn'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  try {
    const url = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no "serving on" line within 30 s; stderr:\n${err}`)),
        30_000,
      );
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /deminer: serving on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(err);
        if (m) {
          clearTimeout(timer);
          assert.notEqual(m[2], '0', 'the real port, not 0');
          ok(m[1]!);
        }
      });
      child.on('exit', (code) => fail(new Error(`serve exited with ${code}:\n${err}`)));
    });
    const api = new Api(url);
    const health = await api.get('/health');
    assert.equal(health.status, 200, health.text);
    assert.equal(health.body.store, 'sqlite');

    // The store is opened beside the running server (SQLite WAL).
    const t = deminer(['token', 'create', '--role', 'admin', '--data', data]);
    assert.equal(t.code, 0, t.err);
    const admin = t.out.trim();
    const tokens = await api.get('/tokens', admin);
    assert.equal(tokens.status, 200, tokens.text);
    assert.ok(tokens.body.items.length >= 1);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
  assert.equal(out, '', 'serve writes nothing on stdout');
});

test('serve refuses a bad port and a half TLS pair (exit 2)', () => {
  const data = join(tmp, 'bad-serve');
  for (const args of [
    ['serve', '--port', '65536', '--data', data],
    ['serve', '--port', '0', '--data', data, '--tls-cert', join(tmp, 'cert.pem')],
  ]) {
    const r = deminer(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /--port|--tls/);
  }
});

test('TLS: with a certificate and key the server speaks HTTPS', async (t) => {
  const cert = join(tmp, 'cert.pem');
  const key = join(tmp, 'key.pem');
  const gen = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (gen.error) {
    const reason = `openssl is not available to make a test certificate: ${gen.error.message}`;
    process.stdout.write(`# ${reason}\n`);
    t.skip(reason);
    return;
  }
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(tmp, 'tls-data'),
    tlsCert: cert,
    tlsKey: key,
  });
  try {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((ok, fail) => {
      const req = request(`${server.url}/api/v1/health`, { ca: readFileSync(cert) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => ok(text));
      });
      req.on('error', fail);
      req.end();
    });
    assert.equal(JSON.parse(body).status, 'ok');
  } finally {
    await server.close();
  }
});
