/**
 * Two servers on one PostgreSQL database share one JetStream stream and its
 * durable consumer. Twenty batches are posted to both in turn; one server
 * (a process of its own) is killed with SIGKILL half-way, so whatever it
 * had taken and not acknowledged is delivered again to the other. Every
 * batch must end up stored exactly once. The killed server acknowledges each
 * batch a second after committing it (child-server.ts), so it dies holding
 * batches that are stored and not acknowledged: the redeliveries must store
 * nothing twice. Needs NATS (DEMINER_TEST_NATS) and
 * PostgreSQL (DEMINER_TEST_DATABASE): skipped with the reason printed when
 * either is unreachable, except under CI (a failure).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Finding } from '../../src/core/finding.ts';
import { startServer } from '../../src/server/index.ts';
import { Api, finding, PG_URL, postgresUnavailable, type Reply } from '../server/helpers.ts';
import { NATS_URL, natsAdmin, natsUnavailable, uniqueNames } from './helpers.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const BATCHES = 20;
const KILL_AFTER = 10;

const unavailable = (await natsUnavailable()) ?? (await postgresUnavailable(PG_URL));
if (unavailable !== undefined && process.env.CI) {
  test('NATS JetStream and PostgreSQL are reachable (required under CI)', () => {
    throw new Error(unavailable);
  });
} else if (unavailable !== undefined) {
  process.stdout.write(`# skipping the two-server NATS test: ${unavailable}\n`);
  test('two servers, one stream, one killed', { skip: unavailable }, () => undefined);
} else {
  test('two servers on one database and one stream, one killed mid-way: every batch stored exactly once', async (t) => {
    const names = uniqueNames();
    const admin = await natsAdmin(names);
    const schema = `deminer_bus_${randomBytes(6).toString('hex')}`;
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query(`create schema ${schema}`);
    const u = new URL(PG_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const settings = {
      database: u.toString(),
      nats: NATS_URL,
      // A short ack wait: what the killed server held comes back within seconds.
      natsOptions: { ...names, ackWaitMs: 2000 },
    };
    const a = await startServer({ ...settings, host: '127.0.0.1', port: 0, version: '0.0.0-test' });
    let child: ChildProcess | undefined;
    try {
      const started = await startChild(settings);
      child = started.child;
      const apiA = new Api(a.url);
      const apiB = new Api(started.url);
      const token = (await a.store.createToken({ role: 'sensor', name: 'bus test' })).token;
      const batches: Finding[][] = [];
      let killed = false;
      for (let i = 0; i < BATCHES; i++) {
        const items = [finding({ host: `web${i % 3}` }), finding({ host: `web${i % 3}` })];
        batches.push(items);
        const headers = { 'idempotency-key': `batch-${i}` };
        const toB = i % 2 === 1;
        // Once B is dead its share goes to A, as a client whose server is gone would send it.
        let r: Reply | undefined = await (toB && !killed ? apiB : apiA).post(
          '/findings',
          token,
          { items },
          headers,
        );
        assert.equal(r.status, 202, r.text);
        assert.equal(r?.body.queued, true);
        if (i + 1 === KILL_AFTER) {
          child.kill('SIGKILL');
          await new Promise((resolve) => child?.once('exit', resolve));
          killed = true;
          // A post to the dead server fails, and the client retries it on the living one.
          r = await apiB.post('/findings', token, { items }, headers).catch(() => undefined);
          assert.equal(r, undefined, 'the killed server does not answer');
          // The same batch, the same key, to the living one.
          r = await apiA.post('/findings', token, { items }, headers);
          assert.equal(r.status, 202, r.text);
        }
      }
      await admin.drained(30_000);
      const ci = await admin.jsm.consumers.info(names.stream, names.consumer);
      // Each delivery takes a consumer sequence number; each message one stream sequence number.
      const redelivered = ci.delivered.consumer_seq - ci.delivered.stream_seq;
      t.diagnostic(`deliveries again after the kill: ${redelivered}`);
      assert.ok(redelivered > 0, 'the killed server held messages it had not acknowledged');
      const rows = await db.query<{ fingerprint: string; count: number }>(
        `select fingerprint, count from ${schema}.findings order by fingerprint`,
      );
      const expected = batches
        .flat()
        .map((f) => f.fingerprint)
        .sort();
      assert.equal(rows.rows.length, expected.length, 'one row per finding');
      assert.deepEqual(
        rows.rows.map((r) => r.fingerprint),
        expected,
      );
      const distinct = new Set(rows.rows.map((r) => r.fingerprint));
      assert.equal(distinct.size, rows.rows.length);
      for (const r of rows.rows) assert.equal(Number(r.count), 1, `${r.fingerprint} stored once`);
      const keys = await db.query<{ n: string }>(`select count(*) as n from ${schema}.ingest_keys`);
      assert.equal(Number(keys.rows[0]?.n), BATCHES, 'one idempotency key per batch');
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await a.close();
      await admin.cleanup();
      await db.query(`drop schema ${schema} cascade`).catch(() => undefined);
      await db.end();
    }
  });
}

/** `startServer` in a child process with these settings; resolves with its URL once it listens. */
function startChild(settings: object): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'child-server.ts')], {
      env: {
        ...process.env,
        DEMINER_TEST_CHILD_SERVER: JSON.stringify(settings),
        DEMINER_TEST_CHILD_HOLD_MS: '1000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the child server did not start within 20 s'));
    }, 20_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      out += d;
      const m = /^(https?:\/\/\S+)\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the child server exited (${code ?? signal}) before listening`));
    });
  });
}
