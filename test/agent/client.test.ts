/**
 * The agent's HTTP client against the real server (SQLite in a temporary
 * folder, loopback): status codes become stable error codes, retryable or not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient, ApiClientError, certificatePin } from '../../src/agent/client.ts';
import { makeFinding } from '../../src/core/finding.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';

function finding(host: string, subject: string) {
  return makeFinding({
    rule: {
      id: 'deminer.agent.new_executable',
      name: 'New executable running since the last scan',
      ruleset: 'builtin',
    },
    severity: 'low',
    techniques: ['T1204.002'],
    host,
    subject: [subject],
    message: `${subject} started running.`,
  });
}

async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  status: number | undefined,
  retryable: boolean,
) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ApiClientError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    assert.equal(e.retryable, retryable);
    return true;
  });
}

describe('agent client against the real server', () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deminer-client-'));
    server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), logger: false });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('enrol (401 on a bad secret), heartbeat, findings (202, replay, 403 for another host), metrics', async () => {
    const anon = new ApiClient({ server: server.url });
    assert.equal(await anon.health(), true);
    await rejectsWith(anon.enrol('dmr_enrol_nope', { name: 'web-01' }), 'API_UNAUTHORIZED', 401, false);
    const { secret } = await server.store.createEnrolment({
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      uses: 1,
      createdBy: 'test',
    });
    const enrolled = await anon.enrol(secret, { name: 'web-01', os: 'linux', agent_version: '0.1.0' });
    assert.equal(enrolled.host.name, 'web-01');
    // The secret had one use.
    await rejectsWith(anon.enrol(secret, { name: 'web-02' }), 'API_UNAUTHORIZED', 401, false);

    const agent = anon.withToken(enrolled.token);
    const hb = await agent.heartbeat({ kernel: '6.1.0' });
    assert.ok(hb.config.interval_s > 0);

    const f = finding('web-01', '/tmp/.x/kswapd0');
    const r1 = await agent.sendFindings([f], 'key-1');
    assert.deepEqual(r1, { stored: 1, duplicates: 0, replayed: false });
    const r2 = await agent.sendFindings([f], 'key-1');
    assert.equal(r2.replayed, true);
    assert.equal(
      (await server.store.getFinding(f.fingerprint))?.count,
      1,
      'a replayed key stores nothing twice',
    );

    await rejectsWith(agent.sendFindings([finding('db-07', '/x')], 'key-2'), 'API_FORBIDDEN', 403, false);
    await agent.sendMetrics([
      { subject: 'host', at: new Date().toISOString(), cpu: 0.5, memory_bytes: 1000 },
    ]);
    const metrics = await server.store.listMetrics({ hostId: enrolled.host.id });
    assert.equal(metrics.length, 1);
  });

  test('no or bad token 401, a sensor may send findings but not heartbeat (403), bad input is not retryable', async () => {
    await rejectsWith(new ApiClient({ server: server.url }).heartbeat(), 'API_UNAUTHORIZED', 401, false);
    await rejectsWith(
      new ApiClient({ server: server.url, token: 'dmr_nope' }).sendFindings([finding('x', 'y')], 'k'),
      'API_UNAUTHORIZED',
      401,
      false,
    );
    const { token } = await server.store.createToken({ role: 'sensor', name: 'sensor-1' });
    const sensor = new ApiClient({ server: `${server.url}/api/v1/`, token });
    const r = await sensor.sendFindings([finding('office-pc-17', 'pool.example:3333')], 'run-1');
    assert.equal(r.stored, 1);
    await rejectsWith(sensor.heartbeat(), 'API_FORBIDDEN', 403, false);
    const bad = { ...finding('x', 'y'), severity: 'apocalyptic' };
    await assert.rejects(
      sensor.sendFindings([bad as never], 'run-2'),
      (e: unknown) =>
        e instanceof ApiClientError && e.code === 'API_REJECTED' && !e.retryable && e.status === 400,
    );
  });

  test('network failures and timeouts are retryable', async () => {
    // A port nothing listens on: the server's own port after it is closed.
    const s = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'gone'), logger: false });
    const url = s.url;
    await s.close();
    await rejectsWith(new ApiClient({ server: url }).health(), 'API_NETWORK', undefined, true);
    // A listener that never answers.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      await rejectsWith(
        new ApiClient({ server: `http://127.0.0.1:${port}`, timeoutMs: 300 }).health(),
        'API_TIMEOUT',
        undefined,
        true,
      );
    } finally {
      silent.close();
    }
  });

  test('one kept-alive connection across requests; one the server closed unanswered is replaced', async () => {
    const net = await import('node:net');
    const answer =
      'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\nconnection: keep-alive\r\n\r\n{"status":"ok"}';
    let connections = 0;
    let requests = 0;
    // A raw HTTP/1.1 server: the first connection answers two requests and
    // then resets on the third without an answer, as a server closing an
    // idle connection does when a request crosses its close.
    const raw = net.createServer((sock) => {
      const mine = ++connections;
      let served = 0;
      let buf = '';
      sock.on('error', () => {});
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          requests++;
          if (mine === 1 && ++served === 3) {
            sock.resetAndDestroy();
            return;
          }
          sock.write(answer);
        }
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const port = (raw.address() as { port: number }).port;
    const c = new ApiClient({ server: `http://127.0.0.1:${port}` });
    try {
      assert.equal(await c.health(), true);
      assert.equal(await c.withToken('dmr_other').health(), true);
      assert.equal(connections, 1, 'withToken shares the connection');
      assert.equal(await c.health(), true, 'the reset connection is replaced without an error');
      assert.equal(connections, 2);
      assert.equal(requests, 4);
    } finally {
      c.close();
      raw.close();
    }
  });

  const noOpenssl =
    spawnSync('openssl', ['version']).status === 0
      ? undefined
      : 'openssl is not installed (needed to make a test certificate)';
  if (noOpenssl) process.stdout.write(`# skipped pinning test: ${noOpenssl}\n`);
  test(
    'https with a pinned self-signed certificate; a wrong pin never gets an answer',
    { skip: noOpenssl },
    async () => {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      const made = spawnSync('openssl', [
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
        '/CN=deminer-test',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
      assert.equal(made.status, 0, made.stderr?.toString());
      const s = await startServer({
        host: '127.0.0.1',
        port: 0,
        dataDir: join(dir, 'tls'),
        tlsCert: cert,
        tlsKey: key,
        logger: false,
      });
      try {
        assert.match(s.url, /^https:/);
        const pin = certificatePin(readFileSync(cert, 'utf8'));
        let handshakes = 0;
        s.app.server.on('secureConnection', () => handshakes++);
        const pinned = new ApiClient({ server: s.url, pinSha256: pin.replaceAll(':', '').toLowerCase() });
        for (let i = 0; i < 3; i++) assert.equal(await pinned.health(), true);
        // The pinned connection is checked once and kept for the next requests.
        assert.equal(handshakes, 1);
        pinned.close();
        const wrong = `${pin.slice(0, -2)}${pin.endsWith('00') ? '01' : '00'}`;
        await rejectsWith(
          new ApiClient({ server: s.url, pinSha256: wrong, token: 'dmr_secret' }).heartbeat(),
          'API_CERT_MISMATCH',
          undefined,
          false,
        );
        // Without a pin, a self-signed certificate is refused by the chain check.
        await rejectsWith(new ApiClient({ server: s.url }).health(), 'API_NETWORK', undefined, true);
      } finally {
        await s.close();
      }
    },
  );
});
