/**
 * POST /findings through a server started with --nats: the batch is queued
 * on a JetStream stream of this run's own (deleted at the end) and stored by
 * the server's consumer exactly once, also when the same Idempotency-Key is
 * posted twice or the message is delivered again; a message the store
 * refuses is acknowledged and dropped, not retried. Without a reachable NATS
 * server this skips with the reason printed, except under CI (a failure).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { startServer } from '../../src/server/index.ts';
import { Api, allFindings, finding } from '../server/helpers.ts';
import { NATS_URL, natsAdmin, natsUnavailable, uniqueNames } from './helpers.ts';

const unavailable = await natsUnavailable();
if (unavailable !== undefined && process.env.CI) {
  test('NATS JetStream is reachable (required under CI)', () => {
    throw new Error(unavailable);
  });
} else if (unavailable !== undefined) {
  process.stdout.write(`# skipping the NATS ingest tests: ${unavailable}\n`);
  test('ingest through NATS JetStream', { skip: unavailable }, () => undefined);
} else {
  test('a batch posted with --nats is queued (202 queued) and stored exactly once, a repeated key included', async () => {
    const names = uniqueNames();
    const admin = await natsAdmin(names);
    const dir = mkdtempSync(join(tmpdir(), 'deminer-bus-'));
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      version: '0.0.0-test',
      nats: NATS_URL,
      natsOptions: { ...names, ackWaitMs: 3000 },
    });
    try {
      const api = new Api(server.url);
      const token = (await server.store.createToken({ role: 'sensor', name: 'bus test' })).token;
      const batch = [finding(), finding(), finding()];
      const headers = { 'idempotency-key': 'bus-batch-1' };

      const first = await api.post('/findings', token, { items: batch }, headers);
      assert.equal(first.status, 202, first.text);
      assert.deepEqual(first.body, { queued: true, stored: 0, duplicates: 0, replayed: false });
      const again = await api.post('/findings', token, { items: batch }, headers);
      assert.equal(again.status, 202, again.text);
      assert.deepEqual(again.body, { queued: true, stored: 0, duplicates: 0, replayed: false });

      // A batch without a key, and the same body again (the stream keeps one: the id is the body's hash).
      const loose = [finding()];
      for (let i = 0; i < 2; i++) {
        const r = await api.post('/findings', token, { items: loose });
        assert.equal(r.status, 202, r.text);
        assert.equal(r.body.queued, true);
      }

      // The same key published again past the stream's de-duplication (as a redelivery after a crash would
      // be): the store knows the key and writes nothing.
      const sensor = await server.store.verifyToken(token);
      assert.ok(sensor);
      const js = jetstream(admin.nc);
      await js.publish(
        names.subject,
        JSON.stringify({
          v: 1,
          items: batch,
          actor: sensor.id,
          at: new Date().toISOString(),
          key: `${sensor.id}:bus-batch-1`,
        }),
        { msgID: 'a-redelivery' },
      );
      // Unreadable, and a batch the store refuses: acknowledged and dropped, never retried.
      await js.publish(names.subject, 'not json', { msgID: 'garbage' });
      await js.publish(
        names.subject,
        JSON.stringify({
          v: 1,
          items: [{ fingerprint: 'xyz' }],
          actor: sensor.id,
          at: new Date().toISOString(),
          key: 'k',
        }),
        { msgID: 'refused' },
      );

      await admin.drained();
      const adminToken = (await server.store.createToken({ role: 'admin', name: 'bus test admin' })).token;
      const all = await allFindings(api, adminToken);
      const expected = [...batch, ...loose].map((f) => f.fingerprint).sort();
      assert.deepEqual(all.map((f) => f.fingerprint).sort(), expected);
      for (const f of all) assert.equal(f.count, 1, `${f.fingerprint} stored once`);
      const info = await admin.jsm.streams.info(names.stream);
      // Work queue: acknowledged messages leave the stream.
      assert.equal(info.state.messages, 0);
      const audit = await api.get('/audit?limit=50', adminToken);
      const ingests = audit.body.items.filter((e: { action: string }) => e.action === 'findings.ingest');
      assert.equal(ingests.length, 4);
      assert.ok(ingests.every((e: { detail: { queued?: boolean } }) => e.detail.queued === true));
    } finally {
      await server.close();
      await admin.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close stops the consumer: batches queued while no server runs are stored by the next one', async () => {
    const names = uniqueNames();
    const admin = await natsAdmin(names);
    const dir = mkdtempSync(join(tmpdir(), 'deminer-bus-'));
    const opts = {
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      version: '0.0.0-test',
      nats: NATS_URL,
      natsOptions: { ...names, ackWaitMs: 3000 },
    };
    try {
      const first = await startServer(opts);
      const sensor = (await first.store.createToken({ role: 'sensor', name: 'bus test' })).record.id;
      await first.close();
      // Publish as the server would, with nobody consuming.
      const js = jetstream(admin.nc);
      const items = [finding(), finding()];
      await js.publish(
        names.subject,
        JSON.stringify({ v: 1, items, actor: sensor, at: new Date().toISOString(), key: `${sensor}:later` }),
        { msgID: 'later' },
      );
      const ci = await admin.jsm.consumers.info(names.stream, names.consumer);
      assert.equal(ci.num_pending, 1, 'the message waits in the stream');
      const second = await startServer(opts);
      try {
        await admin.drained();
        for (const f of items) assert.equal((await second.store.getFinding(f.fingerprint))?.count, 1);
      } finally {
        await second.close();
      }
    } finally {
      await admin.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
