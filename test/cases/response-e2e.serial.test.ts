/**
 * End to end on this machine (issue 17's proof): the real server on loopback
 * (SQLite in a temporary folder), the agent in-process reading the real
 * /proc, and the miner simulator (test/sim) with a cron entry that restarts
 * it. An incident opens from the agent's finding; evidence is collected
 * through the agent (process details, executable, memory, the cron file)
 * and checked against the files; a tampered evidence file is refused at
 * download; eradication suspends and kills the miner, quarantines its binary
 * and removes the cron line, each verified; the watch period sees nothing
 * come back and moves the incident to recovery. A second miner, started
 * from somewhere the eradication did not know while the watch runs, sends
 * the incident back to eradication.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runAgent } from '../../src/agent/agent.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import type { Json } from '../server/helpers.ts';
import { cannotRun, cleanup, dropSim, onCleanup, startPool, startSim, WALLET } from '../sim/harness.ts';

const reason =
  cannotRun() ?? (process.getuid?.() === 0 ? undefined : "reading another process's memory needs root");

type Api = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; json: Json; bytes: Buffer; headers: Headers }>;

function apiOf(server: RunningServer, token: string): Api {
  return async (method, path, body) => {
    const r = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const bytes = Buffer.from(await r.arrayBuffer());
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: r.status, json, bytes, headers: r.headers };
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const alive = (pid: number): boolean => {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) Z /.test(st);
  } catch {
    return false;
  }
};

describe('incident response through the agent: evidence, eradication, watch', { skip: reason }, () => {
  if (reason) process.stdout.write(`# skipped: ${reason}\n`);
  let server: RunningServer;
  let api: Api;
  let work: string;
  let root: string;
  let stateDir: string;
  let data: string;
  let pool: Awaited<ReturnType<typeof startPool>>;
  const stop = new AbortController();
  let agentDone: Promise<unknown>;

  before(async () => {
    work = mkdtempSync('/tmp/.deminer-resp-');
    root = mkdtempSync('/tmp/deminer-resp-root-');
    data = mkdtempSync('/tmp/deminer-resp-data-');
    stateDir = join(data, 'agent');
    onCleanup(() => rmSync(work, { recursive: true, force: true }));
    onCleanup(() => rmSync(root, { recursive: true, force: true }));
    onCleanup(() => rmSync(data, { recursive: true, force: true }));
    pool = await startPool();
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(data, 'server'),
      webRoot: null,
      cases: { checkEveryMs: 300 },
    });
    const { token } = await server.store.createToken({ role: 'analyst', name: 'analyst' });
    api = apiOf(server, token);
    const { secret } = await server.store.createEnrolment({
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      uses: 1,
      createdBy: 'test',
    });
    agentDone = runAgent({
      server: server.url,
      enrollSecret: secret,
      stateDir,
      fsRoot: root,
      intervalMs: 2000,
      windowMs: 1000,
      signal: stop.signal,
      log: () => undefined,
    });
  });

  after(async () => {
    stop.abort();
    await agentDone.catch(() => undefined);
    await server?.close();
    cleanup();
  });

  test('collect evidence, refuse a tampered file, eradicate, watch, and reopen when the miner returns', async () => {
    // The miner, and the cron entry that would restart it.
    const exe = dropSim(work, 'kdevtmpfsi');
    const exeSha = createHash('sha256').update(readFileSync(exe)).digest('hex');
    mkdirSync(join(root, 'etc/cron.d'), { recursive: true });
    const cronLine = `*/5 * * * * root ${exe} >/dev/null 2>&1`;
    writeFileSync(join(root, 'etc/cron.d/kdevtmpfsi'), `# system upkeep\n${cronLine}\nMAILTO=""\n`);
    const sim = await startSim({
      exe,
      argv0: 'kdevtmpfsi',
      env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '1', SIM_NAME: 'kdevtmpfsi' },
    });
    onCleanup(() => sim.child.kill('SIGKILL'));

    // An incident opens from the agent's finding.
    const incident = await until('an incident for the miner', async () => {
      const r = await api('GET', '/incidents');
      return (r.json?.items as Json[] | undefined)?.[0];
    });
    const id: string = incident.id;

    // Evidence through the agent.
    const asked = await api('POST', `/incidents/${id}/evidence`, { memory_max_bytes: 64 * 1024 * 1024 });
    assert.equal(asked.status, 202, JSON.stringify(asked.json));
    const collectTask: string = asked.json.id;
    const collected = await until('the collect task to end', async () => {
      const r = await api('GET', `/incidents/${id}/tasks`);
      const t = (r.json.items as Json[]).find((x) => x.id === collectTask);
      return t && (t.state === 'done' || t.state === 'failed') ? t : undefined;
    });
    assert.equal(collected.state, 'done', JSON.stringify(collected.result, null, 1));
    const ev = (await api('GET', `/incidents/${id}/evidence`)).json.items as Json[];
    const kinds = new Set(ev.map((e) => e.kind));
    for (const k of ['process', 'executable', 'memory', 'memory-map', 'persistence'])
      assert.ok(kinds.has(k), `${k} collected (got ${[...kinds].join(', ')})`);

    const binary = ev.find((e) => e.kind === 'executable');
    assert.equal(binary.sha256, exeSha, 'the executable evidence is the file the miner runs');
    const dl = await api('GET', `/evidence/${binary.id}`);
    assert.equal(dl.status, 200);
    assert.equal(createHash('sha256').update(dl.bytes).digest('hex'), exeSha);
    assert.equal(dl.headers.get('x-deminer-sha256'), exeSha);

    const memory = ev.find((e) => e.kind === 'memory');
    assert.ok(memory.bytes > 0 && memory.bytes <= 64 * 1024 * 1024, `memory dump of ${memory.bytes} bytes`);
    const dump = await api('GET', `/evidence/${memory.id}`);
    assert.equal(createHash('sha256').update(dump.bytes).digest('hex'), memory.sha256);
    assert.ok(dump.bytes.includes(Buffer.from(WALLET)), "the miner's wallet is in its memory dump");
    const map = JSON.parse(
      (await api('GET', `/evidence/${ev.find((e) => e.kind === 'memory-map').id}`)).bytes.toString('utf8'),
    );
    assert.equal(map.pid, sim.pid);
    assert.ok(
      map.regions.some((r: Json) => r.path === '[stack]' && r.bytes > 0),
      'the stack was read',
    );

    const proc = JSON.parse(
      (await api('GET', `/evidence/${ev.find((e) => e.kind === 'process').id}`)).bytes.toString('utf8'),
    );
    assert.equal(proc.pid, sim.pid);
    assert.equal(proc.exe, exe);
    assert.ok(proc.parents.length >= 1, 'the parent chain is there');
    assert.ok(Object.keys(proc.sockets).length >= 1, 'its pool connection is listed');

    const cron = ev.find((e) => e.kind === 'persistence');
    assert.equal(cron.name, '/etc/cron.d/kdevtmpfsi');
    assert.ok((await api('GET', `/evidence/${cron.id}`)).bytes.toString('utf8').includes(cronLine));

    // Chain of custody: collected by the agent, stored by the server, downloaded by the analyst.
    const custody = (await api('GET', `/evidence/${binary.id}/custody`)).json.custody as Json[];
    assert.deepEqual(
      custody.map((c) => c.action),
      ['collected', 'stored', 'downloaded'],
    );
    assert.match(custody[2].actor, /analyst/);

    // A stored file that no longer matches its hash is refused, and the refusal is in the custody.
    const stored = join(data, 'server', 'evidence');
    const cronFile = join(stored, (await server.store.tasks.getEvidence(cron.id))!.path);
    rmSync(cronFile, { force: true });
    writeFileSync(cronFile, 'tampered\n');
    const bad = await api('GET', `/evidence/${cron.id}`);
    assert.equal(bad.status, 409);
    assert.equal(bad.json.error.code, 'DEMINER_EVIDENCE_ALTERED');
    assert.equal(
      ((await api('GET', `/evidence/${cron.id}/custody`)).json.custody as Json[]).at(-1).action,
      'hash_mismatch',
    );

    // Eradication: suspend, quarantine, kill, remove the cron line; watch for 6 s.
    const er = await api('POST', `/incidents/${id}/eradicate`, { watch_s: 6 });
    assert.equal(er.status, 202, JSON.stringify(er.json));
    const done = await until('the eradicate task to end', async () => {
      const r = await api('GET', `/incidents/${id}/tasks`);
      const t = (r.json.items as Json[]).find((x) => x.id === er.json.id);
      return t && (t.state === 'done' || t.state === 'failed') ? t : undefined;
    });
    assert.equal(done.state, 'done', JSON.stringify(done.result, null, 1));
    const steps = done.result.steps as Json[];
    for (const s of ['suspend', 'quarantine', 'kill', 'remove_persistence'])
      assert.ok(
        steps.some((x) => x.step === s && x.ok && x.verified),
        `${s} verified`,
      );
    assert.equal(alive(sim.pid), false, 'the miner is gone');
    assert.equal(existsSync(exe), false, 'its binary left its folder');
    const q = join(stateDir, 'quarantine', `${exeSha}.bin`);
    assert.equal(statSync(q).mode & 0o777, 0, 'quarantined, mode 000');
    assert.equal(createHash('sha256').update(readFileSync(q)).digest('hex'), exeSha);
    const cronAfter = readFileSync(join(root, 'etc/cron.d/kdevtmpfsi'), 'utf8');
    assert.ok(!cronAfter.includes(exe), 'the cron line is gone');
    assert.ok(cronAfter.includes('MAILTO'), 'the rest of the file stays');
    assert.equal((await api('GET', `/incidents/${id}`)).json.phase, 'eradication');

    // Nothing comes back within the watch: the incident moves to recovery.
    const recovered = await until(
      'the watch to end',
      async () => {
        const r = await api('GET', `/incidents/${id}`);
        return r.json.phase === 'recovery' ? r.json : undefined;
      },
      30_000,
    ).catch(async (e) => {
      const r = await api('GET', `/incidents/${id}`);
      const t = (r.json.timeline as Json[]).map(
        (x) => `${x.kind} ${x.data.action ?? x.data.to ?? x.data.rule_id ?? ''}`,
      );
      throw new Error(`${(e as Error).message}; phase ${r.json.phase}; timeline: ${t.join(' | ')}`);
    });
    const actions = (recovered.timeline as Json[])
      .filter((e) => e.kind === 'action')
      .map((e) => e.data.action);
    for (const a of [
      'evidence.requested',
      'evidence.collected',
      'eradication.requested',
      'eradication.done',
      'eradication.watch_ended',
    ])
      assert.ok(actions.includes(a), `${a} on the timeline (${actions.join(', ')})`);

    // The report shows what the miner cost, from the agent's samples of its process.
    const report = (await api('GET', `/incidents/${id}/report?format=json`)).json;
    assert.equal(report.impact.measured, true, JSON.stringify(report.impact.not_measured));
    assert.ok(report.impact.cpu_seconds > 0, `cpu_seconds ${report.impact.cpu_seconds}`);
    assert.ok(report.impact.cost > 0, `cost ${report.impact.cost}`);
    assert.equal(report.impact.host_cores, cpus().length, 'the agent told the host size');
    const md = (await api('GET', `/incidents/${id}/report`)).bytes.toString('utf8');
    assert.match(md, /CPU/);
    assert.ok(
      (report.evidence as Json[]).some((e) => e.sha256 === exeSha),
      'the report lists the evidence with its hash',
    );

    // A second eradication with a long watch; then the miner comes back from a persistence entry it did not know.
    const exe2 = dropSim(work, 'kthreaddk');
    const sim2 = await startSim({
      exe: exe2,
      argv0: 'kthreaddk',
      env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '1', SIM_NAME: 'kthreaddk' },
    });
    onCleanup(() => sim2.child.kill('SIGKILL'));
    // It joins the open incident (in recovery): erase it with a 10-minute watch.
    await until('the second miner on the incident', async () => {
      const r = await api('GET', `/incidents/${id}`);
      return (r.json.timeline as Json[]).some(
        (e) => e.kind === 'finding' && String(e.data.message ?? '').includes('kthreaddk'),
      )
        ? true
        : undefined;
    });
    const er2 = await api('POST', `/incidents/${id}/eradicate`, {
      pid: sim2.pid,
      steps: ['kill'],
      watch_s: 600,
    });
    assert.equal(er2.status, 202, JSON.stringify(er2.json));
    await until('the second eradication', async () => {
      const r = await api('GET', `/incidents/${id}/tasks`);
      return r.json.watch ? r.json.watch : undefined;
    });
    assert.equal(alive(sim2.pid), false);
    // It comes back from a persistence entry the clean-up did not know (a second cron file).
    const exe3 = dropSim(work, 'ksoftirqdd');
    writeFileSync(join(root, 'etc/cron.d/sysupdate'), `@reboot root ${exe3}\n`);
    const sim3 = await startSim({
      exe: exe3,
      argv0: 'ksoftirqdd',
      env: { SIM_POOL: `127.0.0.1:${pool.port}`, SIM_DUTY: '1', SIM_NAME: 'ksoftirqdd' },
    });
    onCleanup(() => sim3.child.kill('SIGKILL'));
    const back = await until('the incident to go back to eradication', async () => {
      const r = await api('GET', `/incidents/${id}`);
      return (r.json.timeline as Json[]).some(
        (e) => e.kind === 'action' && e.data.action === 'eradication.returned',
      )
        ? r.json
        : undefined;
    }).catch(async (e) => {
      const r = await api('GET', `/incidents/${id}`);
      const t = (r.json.timeline as Json[]).map(
        (x) =>
          `${x.at.slice(11, 23)} ${x.kind} ${x.data.action ?? x.data.to ?? x.data.rule_id ?? ''} ${x.kind === 'finding' ? String(x.data.message).slice(0, 60) : ''}`,
      );
      const tasks = (await api('GET', `/incidents/${id}/tasks`)).json;
      throw new Error(
        `${(e as Error).message}; phase ${r.json.phase}; watch ${JSON.stringify(tasks.watch)}; timeline:\n${t.join('\n')}`,
      );
    });
    assert.equal(back.phase, 'eradication');
    assert.equal((await api('GET', `/incidents/${id}/tasks`)).json.watch, null, 'the watch ended');
  });
});
