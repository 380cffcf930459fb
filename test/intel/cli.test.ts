import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { toSuricata } from '../../src/intel/export/suricata.ts';
import { parseFeed } from '../../src/intel/parsers/index.ts';
import { BLOCKLISTS, HAVE_CORPORA, SKIP_REASON } from './corpus.ts';

const BIN = fileURLToPath(new URL('../../bin/deminer.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'deminer-home-'));
after(() => rmSync(home, { recursive: true, force: true }));

function deminer(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, DEMINER_HOME: home, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('lookup with the shipped feed: jsonl contract and exit codes', () => {
  const r = deminer('intel', 'lookup', '--format', 'jsonl', 'eu.2miners.com', 'example.org', '104.16.0.1');
  assert.equal(r.code, 1, r.err);
  const lines = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.deepEqual(Object.keys(lines[0]).slice(0, 4), ['value', 'listed', 'allowed', 'matches']);
  assert.equal(lines[0].listed, true);
  assert.deepEqual(Object.keys(lines[0].matches[0]).slice(0, 4), [
    'indicator',
    'type',
    'source',
    'confidence',
  ]);
  assert.equal(lines[0].matches[0].indicator, '2miners.com');
  assert.equal(lines[1].listed, false);
  assert.equal(lines[2].allowed, true, 'Cloudflare ranges are allowed by default');
  assert.equal(deminer('intel', 'lookup', 'example.org').code, 0);
  assert.equal(deminer('intel', 'lookup', 'not a value!').code, 2);
  assert.equal(deminer('intel', 'lookup', '--format', 'xml', 'a.example').code, 2);
});

test('update from corpus feeds, then stats, lookup and every export', (t) => {
  if (!HAVE_CORPORA) return t.skip(SKIP_REASON);
  const cfg = join(home, 'config.yaml');
  writeFileSync(
    cfg,
    `intel:
  feeds:
    - name: coinblocker-ips
      file: ${BLOCKLISTS}CoinBlockerLists-2018/MiningServerIPList.txt
      format: plain
      confidence: 60
    - name: coinblocker-hosts
      file: ${BLOCKLISTS}CoinBlockerLists-2018/hosts
    - name: coinblocker-allow
      file: ${BLOCKLISTS}CoinBlockerLists-2018/white_list.txt
      role: allow
  allow:
    domains: [minergate.com]
`,
  );
  const u = deminer('intel', 'update', '--format', 'jsonl');
  assert.equal(u.code, 0, u.err);
  const outcomes = u.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['ok', 'ok', 'ok'],
  );
  const s = JSON.parse(deminer('intel', 'stats', '--format', 'json').out);
  assert.ok(s.indicators > 6000);
  assert.equal(s.feeds.find((f: { name: string }) => f.name === 'coinblocker-ips').status, 'ok');

  const l = deminer('intel', 'lookup', '--format', 'jsonl', '1.31.173.33', 'xmr.pool.minergate.com');
  const [ip, mg] = l.out
    .trim()
    .split('\n')
    .map((x) => JSON.parse(x));
  assert.equal(ip.listed, true);
  assert.equal(ip.matches[0].source, 'coinblocker-ips');
  assert.equal(mg.listed, false, 'the user allow-list wins');
  assert.equal(mg.allowed, true);

  const nft = deminer('intel', 'export', '--format', 'nftables');
  assert.equal(nft.code, 0, nft.err);
  assert.match(nft.out, /set pool_v4 \{[\s\S]*1\.31\.173\.33/);
  assert.match(nft.out, /ip daddr @pool_v4 counter drop/);
  const hosts = deminer('intel', 'export', '--format', 'hosts').out;
  assert.match(hosts, /^0\.0\.0\.0 000\.0x1f4b0\.com$/m);
  assert.doesNotMatch(hosts, /minergate\.com$/m, 'allowed entries are left out');
  const rpz = deminer('intel', 'export', '--format', 'rpz').out;
  assert.match(rpz, /^\*\.000\.0x1f4b0\.com CNAME \.$/m);
  assert.match(rpz, /^32\.33\.173\.31\.1\.rpz-ip CNAME \.$/m);
  const rules = deminer('intel', 'export', '--format', 'suricata').out;
  assert.match(rules, /dns\.query; dotprefix; content:"\.000\.0x1f4b0\.com"; nocase; endswith;/);
  const sids = [...rules.matchAll(/sid:(\d+);/g)].map((m) => m[1]);
  assert.equal(new Set(sids).size, sids.length, 'SIDs are unique');
  const fewer = toSuricata(
    parseFeed(hosts, 'hosts', { source: 'x', confidence: 50, file: 'h' }).indicators.slice(5),
  );
  const sidOf = (text: string, domain: string) =>
    new RegExp(`content:"\\.${domain.replace(/\./g, '\\.')}".*sid:(\\d+)`).exec(text)?.[1];
  assert.ok(sidOf(rules, 'zvuhanie.ml'));
  assert.equal(
    sidOf(fewer, 'zvuhanie.ml'),
    sidOf(rules, 'zvuhanie.ml'),
    'SIDs do not shift when the list changes',
  );

  // The STIX export reads back through the STIX feed parser.
  const stix = deminer('intel', 'export', '--format', 'stix').out;
  const back = parseFeed(stix, 'auto', { source: 'x', confidence: 50, file: 'export.json' });
  assert.equal(back.format, 'stix');
  const exported = new Set(back.indicators.map((i) => i.value));
  assert.ok(exported.has('1.31.173.33'));
  assert.ok(exported.has('000.0x1f4b0.com'));
  assert.ok(back.indicators.length > 6000);
});

test('lookup: hostile values are escaped in the table, bad values are problems with their place', () => {
  const r = deminer('intel', 'lookup', 'x\x1b]0;pwned\x07.example', 'not a value!');
  assert.equal(r.code, 2, r.err);
  assert.doesNotMatch(r.out, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/, 'no raw control character in the table');
  assert.ok(r.out.includes('x\\x1b]0;pwned\\x07.example'), r.out);
  assert.match(
    r.err,
    /^deminer: warning: INTEL_BAD_VALUE: argument 2: "not a value!" has characters no domain name has; skipped$/m,
  );
  assert.match(
    r.err,
    /^deminer: warning: INTEL_BAD_VALUE: argument 1: .*contains control characters; skipped$/m,
  );
  assert.doesNotMatch(r.err, /\x1b/, 'no raw ESC on stderr');
});
