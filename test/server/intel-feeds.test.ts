import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseIntelConfig } from '../../src/intel/config.ts';
import { redactUrl } from '../../src/server/routes/intel.ts';
import { type Json, sqliteOpener, withServer } from './helpers.ts';

function assertError(
  r: { status: number; body: Json; text: string },
  status: number,
  code: string,
  field?: string,
): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.body?.error?.code, code, r.text);
  if (field !== undefined) assert.equal(r.body.error.field, field, r.text);
}

let dir = '';
let state = '';
let feedFile = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'deminer-intel-feeds-'));
  state = join(dir, 'state');
  feedFile = join(dir, 'pools.txt');
  writeFileSync(feedFile, '# pools\npool.example\n198.51.100.7\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file feed that works, one whose file is missing, a disabled one and a URL with credentials (never fetched). */
const config = () =>
  parseIntelConfig(
    `intel:
  builtin: false
  builtin_allow: false
  feeds:
    - name: local-pools
      file: ${feedFile}
      format: plain
      interval: 1h
    - name: missing
      file: ${join(dir, 'no-such-file.txt')}
      format: plain
    - name: vendor
      url: https://alice:s3cret@ti.example/feed.txt?apikey=abc123&list=pools
      enabled: false
`,
    'test.yaml',
  );

const byName = (items: Json[]): Record<string, Json> => Object.fromEntries(items.map((f) => [f.name, f]));

describe('intel feeds API', () => {
  test('roles: viewer+ read, admin refreshes; no config → configured false and 422', () =>
    withServer(
      sqliteOpener,
      async (h) => {
        const viewer = await h.token('viewer');
        const analyst = await h.token('analyst');
        const sensor = await h.token('sensor');
        assertError(await h.api.get('/intel/feeds'), 401, 'DEMINER_UNAUTHORIZED');
        assertError(await h.api.get('/intel/feeds', sensor), 403, 'DEMINER_FORBIDDEN');
        for (const t of [viewer, analyst, h.admin]) {
          const r = await h.api.get('/intel/feeds', t);
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(r.body, { configured: false, refreshing: false, items: [] });
        }
        assertError(await h.api.post('/intel/feeds/refresh', viewer, {}), 403, 'DEMINER_FORBIDDEN');
        assertError(await h.api.post('/intel/feeds/refresh', analyst, {}), 403, 'DEMINER_FORBIDDEN');
        assertError(await h.api.post('/intel/feeds/refresh', h.admin, {}), 422, 'DEMINER_UNPROCESSABLE');
        assertError(
          await h.api.post('/intel/feeds/refresh', h.admin, { force: 'yes' }),
          400,
          'DEMINER_VALIDATION',
          'force',
        );
      },
      { intelStateDir: null },
    ));

  test('a file feed: listed, refreshed (indicators, last success), a failing feed shows its error, audited', () =>
    withServer(
      sqliteOpener,
      async (h) => {
        const viewer = await h.token('viewer');
        const first = await h.api.get('/intel/feeds', viewer);
        assert.equal(first.status, 200, first.text);
        assert.equal(first.body.configured, true);
        const before = byName(first.body.items);
        assert.deepEqual(Object.keys(before), ['local-pools', 'missing', 'vendor']);
        assert.equal(before['local-pools'].health, 'never-fetched');
        assert.equal(before['local-pools'].file, feedFile);
        assert.equal(before['local-pools'].url, null);
        assert.equal(before['local-pools'].indicators, 0);
        assert.equal(before['local-pools'].last_success, null);
        assert.equal(before['local-pools'].interval_s, 3600);
        assert.equal(before.vendor.enabled, false);
        assert.equal(before.vendor.url, 'https://***@ti.example/feed.txt?apikey=***&list=pools');
        assert.doesNotMatch(first.text, /s3cret|abc123/);

        const r = await h.api.post('/intel/feeds/refresh', h.admin, {});
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.force, false);
        const out = byName(r.body.outcomes);
        assert.deepEqual(Object.keys(out), ['local-pools', 'missing'], 'disabled feeds are left alone');
        assert.equal(out['local-pools'].status, 'ok');
        assert.equal(out['local-pools'].indicators, 2);
        assert.equal(out.missing.status, 'failed');
        assert.match(out.missing.message, /INTEL_FEED_UNREADABLE/);

        const after = byName((await h.api.get('/intel/feeds', viewer)).body.items);
        assert.equal(after['local-pools'].health, 'ok');
        assert.equal(after['local-pools'].indicators, 2);
        assert.equal(after['local-pools'].format, 'plain');
        assert.ok(Date.parse(after['local-pools'].last_success) > Date.now() - 60_000);
        assert.equal(
          Date.parse(after['local-pools'].next_update_due) - Date.parse(after['local-pools'].last_attempt),
          3_600_000,
        );
        assert.equal(after.missing.health, 'failing');
        assert.match(after.missing.message, /cannot read feed file/);
        assert.equal(after.missing.last_success, null);
        assert.equal(after.vendor.health, 'never-fetched');
        assert.equal(after.vendor.next_update_due, null);

        // The overview (cached for a few seconds) sees the update at once.
        const ov = await h.api.get('/overview', viewer);
        assert.equal(
          ov.body.intel.feeds.find((f: Json) => f.name === 'local-pools').indicators,
          2,
          'overview after refresh',
        );

        // Within the interval nothing is fetched; force fetches again.
        writeFileSync(feedFile, 'pool.example\n198.51.100.7\nother-pool.example\n');
        const again = byName((await h.api.post('/intel/feeds/refresh', h.admin, {})).body.outcomes);
        assert.equal(again['local-pools'].status, 'fresh');
        assert.equal(again['local-pools'].indicators, 2);
        const forced = await h.api.post('/intel/feeds/refresh', h.admin, { force: true });
        assert.equal(forced.body.force, true);
        assert.equal(byName(forced.body.outcomes)['local-pools'].indicators, 3);
        assert.equal(
          byName((await h.api.get('/intel/feeds', viewer)).body.items)['local-pools'].indicators,
          3,
        );

        const audit = await h.api.get('/audit?limit=500', h.admin);
        assert.equal(audit.status, 200, audit.text);
        const entries = audit.body.items.filter((e: Json) => e.action === 'intel.feeds.refresh');
        assert.equal(entries.length, 3, audit.text);
        assert.ok(entries.every((e: Json) => e.outcome === 'ok'));
        assert.ok(entries.some((e: Json) => e.detail.force === true && e.detail.feeds.missing === 'failed'));
      },
      { intelStateDir: state, intelConfig: config() },
    ));

  test('one refresh at a time: a second one meanwhile → 409; past the timeout → 503, the update goes on', async () => {
    // A feed server that holds its answer until told: an update that does not end by itself.
    let release: (() => void) | undefined;
    const held = createServer((_req, res) => {
      release = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('pool.example\n');
    });
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(held.address() as AddressInfo).port}/feed.txt`;
    const slow = parseIntelConfig(
      `intel:
  builtin: false
  feeds:
    - name: slow
      url: ${url}
      format: plain
      timeout: 30s
      retries: 0
`,
      'slow.yaml',
    );
    try {
      await withServer(
        sqliteOpener,
        async (h) => {
          const first = h.api.post('/intel/feeds/refresh', h.admin, { force: true });
          // Let the first request reach the feed server.
          for (let i = 0; i < 100 && release === undefined; i++) await new Promise((r) => setTimeout(r, 20));
          assert.ok(release, 'the update asked the feed server');
          assert.equal((await h.api.get('/intel/feeds', h.admin)).body.refreshing, true);
          assertError(
            await h.api.post('/intel/feeds/refresh', h.admin, { force: true }),
            409,
            'DEMINER_CONFLICT',
          );
          assertError(await first, 503, 'DEMINER_UNAVAILABLE');
          // Still running: still refused.
          assertError(await h.api.post('/intel/feeds/refresh', h.admin, {}), 409, 'DEMINER_CONFLICT');
          // The feed answers: the update ends, the lock goes.
          release();
          let list = await h.api.get('/intel/feeds', h.admin);
          for (let i = 0; i < 100 && list.body.refreshing; i++) {
            await new Promise((r) => setTimeout(r, 20));
            list = await h.api.get('/intel/feeds', h.admin);
          }
          assert.equal(list.body.refreshing, false);
          assert.equal(list.body.items[0].indicators, 1, list.text);
          assert.equal(list.body.items[0].health, 'ok', list.text);
          const audit = await h.api.get('/audit?limit=500', h.admin);
          const outcomes = audit.body.items
            .filter((e: Json) => e.action === 'intel.feeds.refresh')
            .map((e: Json) => e.outcome)
            .sort();
          assert.deepEqual(outcomes, ['409', '409', '503']);
        },
        { intelStateDir: join(dir, 'slow-state'), intelConfig: slow, intelRefreshTimeoutMs: 300 },
      );
    } finally {
      held.closeAllConnections();
      held.close();
    }
  });

  test('redactUrl keeps what identifies the feed, drops credentials', () => {
    assert.equal(redactUrl('https://ti.example/list.txt'), 'https://ti.example/list.txt');
    assert.equal(redactUrl('https://u:p@ti.example/x?token=t&v=1'), 'https://***@ti.example/x?token=***&v=1');
    assert.equal(redactUrl('http://ti.example/x?API_KEY=k'), 'http://ti.example/x?API_KEY=***');
  });
});
