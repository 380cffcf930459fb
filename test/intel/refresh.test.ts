import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseIntelConfig } from '../../src/intel/config.ts';
import { buildIntel } from '../../src/intel/load.ts';
import { refreshAll } from '../../src/intel/refresh.ts';
import { readFeedState } from '../../src/intel/state.ts';

const GOOD = '# pools\npool.example\n198.51.100.7\n';
const MAX = 1000;
let mode = 'ok';
let body = GOOD;
let hits = 0;
let flakyLeft = 0;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  hits++;
  const etag = `"${Buffer.from(body).toString('base64url').slice(0, 16)}-${body.length}"`;
  if (flakyLeft > 0) {
    flakyLeft--;
    res.writeHead(503).end('busy');
    return;
  }
  switch (mode) {
    case 'ok':
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    case '500':
      res.writeHead(500).end('oops');
      return;
    case '404':
      res.writeHead(404).end('gone');
      return;
    case 'empty':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('# nothing today\n');
      return;
    case 'slow':
      return; // never answers
    case 'slow-body':
      res.writeHead(200, { 'content-length': 500 });
      res.write('pool.example\n');
      return; // stalls mid-body
    case 'truncated':
      res.writeHead(200, { 'content-length': 1000 });
      res.write('other.example\npool.example\n');
      setTimeout(() => res.destroy(), 20);
      return;
    case 'huge':
      res.writeHead(200, { 'content-length': MAX * 10 });
      res.end('a.example\n'.repeat(MAX));
      return;
    case 'huge-chunked': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 10; i++) res.write('b.example\n'.repeat(MAX / 10));
      res.end();
      return;
    }
  }
});
let url = '';
let dir = '';
const config = () =>
  parseIntelConfig(
    `intel:
  builtin: false
  builtin_allow: false
  feeds:
    - name: pools
      url: ${url}
      format: plain
      interval: 1h
      timeout: 300ms
      retries: 2
      max_size: ${MAX}
`,
    'test.yaml',
  );
const refresh = () => refreshAll(config(), dir, { force: true, retryBaseMs: 5 });
const listed = () => buildIntel({ stateDir: dir, config: config() }).matchDomain('x.pool.example').listed;

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.txt`;
  dir = mkdtempSync(join(tmpdir(), 'deminer-intel-'));
});
after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('first fetch stores the feed; the engine sees it', async () => {
  mode = 'ok';
  const [o] = await refresh();
  assert.equal(o!.status, 'ok');
  assert.equal(o!.indicators, 2);
  assert.equal(listed(), true);
  assert.equal(readFileSync(join(dir, 'feeds', 'pools.raw'), 'utf8'), GOOD);
});

test('interval not passed: no request at all', async () => {
  const before = hits;
  const [o] = await refreshAll(config(), dir, {});
  assert.equal(o!.status, 'fresh');
  assert.equal(hits, before);
});

test('conditional GET: 304 keeps the copy and counts as success', async () => {
  const [o] = await refresh();
  assert.equal(o!.status, 'not-modified');
  assert.equal(o!.indicators, 2);
  assert.ok(readFeedState(dir, 'pools')!.etag);
});

const failures: [string, string, RegExp][] = [
  ['500', 'failed', /HTTP 500.*after 3 attempts/],
  ['404', 'failed', /HTTP 404/],
  ['slow', 'failed', /INTEL_FETCH_TIMEOUT|no answer/],
  ['slow-body', 'failed', /not complete within|TIMEOUT/],
  ['truncated', 'failed', /ended early|bytes/],
  ['huge', 'failed', /INTEL_FEED_TOO_LARGE|declares 10000 bytes/],
  ['huge-chunked', 'failed', /more than 1000 bytes/],
  ['empty', 'empty', /no indicators/],
];
for (const [m, status, why] of failures) {
  test(`${m}: the last good copy stays in force with a health warning`, async () => {
    mode = m;
    const [o] = await refresh();
    assert.equal(o!.status, status);
    assert.match(o!.warning ?? '', why);
    assert.equal(o!.indicators, 2);
    assert.equal(listed(), true, 'the set was not emptied');
    assert.equal(readFileSync(join(dir, 'feeds', 'pools.raw'), 'utf8'), GOOD);
    const h = buildIntel({ stateDir: dir, config: config() })
      .stats()
      .feeds.find((f) => f.name === 'pools')!;
    assert.equal(h.status, status);
    assert.match(h.warning ?? '', /kept the last good copy/);
  });
}

test('500 is retried: attempts are counted', async () => {
  mode = '500';
  const before = hits;
  await refresh();
  assert.equal(hits - before, 3);
  mode = '404';
  const before404 = hits;
  await refresh();
  assert.equal(hits - before404, 1, 'a 404 is not retried');
});

test('transient errors then success: retries with backoff recover', async () => {
  mode = 'ok';
  body = `${GOOD}new.example\n`;
  flakyLeft = 2;
  const [o] = await refresh();
  assert.equal(o!.status, 'ok');
  assert.equal(o!.attempts, 3);
  assert.equal(o!.indicators, 3);
  assert.equal(buildIntel({ stateDir: dir, config: config() }).matchDomain('new.example').listed, true);
  assert.equal(readFeedState(dir, 'pools')!.warning, undefined);
});

test('a loader without config uses what the last update recorded', () => {
  const e = buildIntel({ stateDir: dir });
  assert.equal(e.matchDomain('new.example').listed, true);
  assert.equal(e.matchDomain('coinhiveproxy.com').listed, false, 'builtin: false was recorded');
});

test('file feeds: size limit and the same last-good rule', async () => {
  const f = join(dir, 'local.txt');
  writeFileSync(f, 'local-pool.example\n');
  const cfg = parseIntelConfig(
    `intel:\n  feeds:\n    - name: local\n      file: ${f}\n      max_size: 100\n`,
    'test.yaml',
  );
  assert.equal((await refreshAll(cfg, dir, { force: true }))[0]!.status, 'ok');
  writeFileSync(f, 'x.example\n'.repeat(100));
  const [o] = await refreshAll(cfg, dir, { force: true });
  assert.equal(o!.status, 'failed');
  assert.match(o!.warning!, /INTEL_FEED_TOO_LARGE/);
  assert.equal(buildIntel({ stateDir: dir, config: cfg }).matchDomain('local-pool.example').listed, true);
});

test('config errors name the file, line and key', () => {
  assert.throws(
    () =>
      parseIntelConfig(
        'intel:\n  feeds:\n    - name: a\n      url: http://x/\n      colour: red\n',
        'c.yaml',
      ),
    (e: Error & { code?: string }) =>
      e.code === 'CONFIG_INVALID' && /c\.yaml:\d+: intel.feeds.0: unknown key.*colour/.test(e.message),
  );
});
