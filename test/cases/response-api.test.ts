/**
 * The evidence and eradication API against the real server (SQLite in a
 * temporary folder, loopback), with the agent's HTTP client playing the
 * agent: who may ask, what an agent is handed, refusals of bad uploads
 * (wrong hash, another host's task, a raw body where JSON belongs), and the
 * choice of targets (only the miner, never the other processes an incident
 * collects).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient, ApiClientError } from '../../src/agent/client.ts';
import { withoutLine } from '../../src/agent/eradicate.ts';
import { targetsOf } from '../../src/cases/response.ts';
import { makeFinding } from '../../src/core/finding.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import type { Json } from '../server/helpers.ts';

function minerFinding(host: string, pid: number, exe: string) {
  return makeFinding({
    rule: { id: 'deminer.process.miner', name: 'Cryptocurrency miner process', ruleset: 'builtin' },
    severity: 'critical',
    techniques: ['T1496'],
    host,
    subject: [String(pid)],
    message: `${exe} mines.`,
    process: { pid, executable: exe, start: '2026-11-30T10:00:00.000Z' },
  });
}

function otherFinding(host: string, pid: number, exe: string) {
  return makeFinding({
    rule: { id: 'deminer.agent.new_executable', name: 'New executable', ruleset: 'builtin' },
    severity: 'medium',
    techniques: ['T1204.002'],
    host,
    subject: [String(pid)],
    message: `${exe} started.`,
    process: { pid, executable: exe },
  });
}

function cronFinding(host: string, content: string) {
  return makeFinding({
    rule: { id: 'deminer.persistence.cron', name: 'Cron entry', ruleset: 'builtin' },
    severity: 'high',
    techniques: ['T1053.003'],
    host,
    subject: ['/etc/cron.d/x', '2'],
    message: 'cron',
    evidence: { file: '/etc/cron.d/x', line: 2, content },
  });
}

describe('evidence and eradication API', () => {
  let dir: string;
  let server: RunningServer;
  let analyst: string;
  let viewer: string;

  const call = async (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    type = 'application/json',
  ) => {
    const r = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) },
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' || body instanceof Buffer ? body : JSON.stringify(body) }),
    });
    const text = await r.text();
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, json };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deminer-resp-api-'));
    server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), webRoot: null });
    analyst = (await server.store.createToken({ role: 'analyst', name: 'ana' })).token;
    viewer = (await server.store.createToken({ role: 'viewer', name: 'vi' })).token;
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('targets: only the miner, and the persistence that starts it', () => {
    const fs = [
      minerFinding('h', 4242, '/tmp/.x/kworker'),
      otherFinding('h', 77, '/usr/bin/bash'),
      cronFinding('h', '*/5 * * * * root /tmp/.x/kworker'),
      cronFinding('h', '0 3 * * * root /usr/sbin/logrotate'),
    ];
    const t = targetsOf(fs);
    assert.deepEqual(
      t.targets.map((x) => x.pid),
      [4242],
    );
    assert.deepEqual(
      t.persistence.map((p) => p.content),
      ['*/5 * * * * root /tmp/.x/kworker'],
    );
  });

  test('a persistence line is removed only as recorded; every copy of it goes', () => {
    const text = '# c\n*/5 * * * * root /tmp/m\nMAILTO=""\n*/5 * * * * root /tmp/m\n';
    const cut = withoutLine(text, { file: '/etc/cron.d/x', line: 2, content: '*/5 * * * * root /tmp/m' });
    assert.equal(cut?.text, '# c\nMAILTO=""\n');
    assert.equal(withoutLine(text, { file: '/etc/cron.d/x', line: 2, content: 'something else' }), undefined);
  });

  test('ask, hand out, upload (hash checked), report; refusals name what is wrong', async () => {
    const { secret } = await server.store.createEnrolment({
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      uses: 2,
      createdBy: 'test',
    });
    const anon = new ApiClient({ server: server.url });
    const e1 = await anon.enrol(secret, { name: 'web-01' });
    const e2 = await anon.enrol(secret, { name: 'web-02' });
    const agent = anon.withToken(e1.token);
    const other = anon.withToken(e2.token);
    await agent.sendFindings([minerFinding('web-01', 4242, '/tmp/.x/kworker')], 'k1');
    const incident = await until(
      async () => (await call(analyst, 'GET', '/incidents?host=web-01')).json.items[0],
    );

    // Viewers read, analysts ask.
    assert.equal((await call(viewer, 'POST', `/incidents/${incident.id}/evidence`, {})).status, 403);
    const asked = await call(analyst, 'POST', `/incidents/${incident.id}/evidence`, { include: ['process'] });
    assert.equal(asked.status, 202, JSON.stringify(asked.json));
    assert.deepEqual(asked.json.params.targets, [
      { pid: 4242, start: '2026-11-30T10:00:00.000Z', executable: '/tmp/.x/kworker' },
    ]);

    // The agent is handed the task once (running), the other host never; it tells its CPU count.
    const hb = await agent.heartbeat({ cpus: 8, watts_per_core: 11.5 });
    const h = (await call(viewer, 'GET', `/hosts/${e1.host.id}`)).json;
    assert.deepEqual([h.cpus, h.watts_per_core], [8, 11.5]);
    const report = await call(viewer, 'GET', `/incidents/${incident.id}/report?format=json`);
    assert.equal(report.json.impact.host_cores, 8, 'the report knows the host size');
    assert.deepEqual(
      hb.tasks?.map((t: Json) => [t.id, t.kind]),
      [[asked.json.id, 'collect']],
    );
    assert.equal((await agent.heartbeat()).tasks, undefined);
    assert.equal((await other.heartbeat()).tasks, undefined);

    const file = join(dir, 'process.json');
    writeFileSync(file, '{"pid":4242}\n');
    const sha = createHash('sha256').update('{"pid":4242}\n').digest('hex');
    const q = { kind: 'process', name: 'process 4242', collected_at: new Date().toISOString(), pid: 4242 };
    // A hash that does not match the bytes: refused, nothing stored.
    await assert.rejects(
      agent.uploadEvidence(
        e1.host.id,
        asked.json.id,
        { ...q, sha256: 'f'.repeat(64) },
        { path: file, bytes: 13 },
      ),
      (e: unknown) => e instanceof ApiClientError && e.status === 422,
    );
    // Another host's agent cannot upload into this task.
    await assert.rejects(
      other.uploadEvidence(e1.host.id, asked.json.id, { ...q, sha256: sha }, { path: file, bytes: 13 }),
      (e: unknown) => e instanceof ApiClientError && e.status === 403,
    );
    const stored = await agent.uploadEvidence(
      e1.host.id,
      asked.json.id,
      { ...q, sha256: sha },
      { path: file, bytes: 13 },
    );
    assert.equal(stored.sha256, sha);
    await agent.reportTask(e1.host.id, asked.json.id, {
      ok: true,
      steps: [{ step: 'process', target: 'pid 4242', ok: true, verified: true, sha256: sha }],
      evidence: [stored.id],
    });
    // A task reported once cannot be reported again.
    await assert.rejects(
      agent.reportTask(e1.host.id, asked.json.id, { ok: true, steps: [], evidence: [] }),
      (e: unknown) => e instanceof ApiClientError && e.status === 404,
    );
    const list = await call(viewer, 'GET', `/incidents/${incident.id}/evidence`);
    assert.equal(list.json.items.length, 1);
    assert.deepEqual(
      list.json.items[0].custody.map((c: Json) => c.action),
      ['collected', 'stored'],
    );
    // Viewers see evidence exists, only analysts download it.
    assert.equal((await call(viewer, 'GET', `/evidence/${stored.id}`)).status, 403);
    assert.equal((await call(analyst, 'GET', `/evidence/${stored.id}`)).status, 200);

    // Raw bytes go to the evidence upload only.
    const raw = await call(analyst, 'POST', '/incidents', 'xx', 'application/octet-stream');
    assert.equal(raw.status, 415);
    assert.equal(raw.json.error.code, 'DEMINER_UNSUPPORTED_MEDIA_TYPE');

    // An incident with no host, or whose host has no agent: 422 naming why.
    const manual = await call(analyst, 'POST', '/incidents', { title: 'a user reports a slow PC' });
    const noHost = await call(analyst, 'POST', `/incidents/${manual.json.id}/eradicate`, {});
    assert.equal(noHost.status, 422);
    assert.match(noHost.json.error.message, /names no host/);
    const sensor = (await server.store.createToken({ role: 'sensor', name: 's' })).token;
    await fetch(`${server.url}/api/v1/findings`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sensor}`,
        'content-type': 'application/json',
        'idempotency-key': 'k2',
      },
      body: JSON.stringify({ items: [minerFinding('kiosk-7', 99, 'C:\\Users\\Public\\svchost.exe')] }),
    });
    const kiosk = await until(
      async () => (await call(analyst, 'GET', '/incidents?host=kiosk-7')).json.items[0],
    );
    const noAgent = await call(analyst, 'POST', `/incidents/${kiosk.id}/evidence`, {});
    assert.equal(noAgent.status, 422);
    assert.match(noAgent.json.error.message, /no deminer agent/);
  });
});

async function until<T>(fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
