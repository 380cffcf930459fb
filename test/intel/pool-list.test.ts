// The one shipped pool list (data/intel/pools.txt): its format, that every pool
// check reads the same list, that today's big pools are recognised through the
// intel engine, and that no popular benign name is listed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { networkLists } from '../../src/detect/network/lists.ts';
import { BUILTIN_POOLS } from '../../src/intel/builtin.ts';
import { buildIntel } from '../../src/intel/index.ts';
import { CORPORA } from './corpus.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'deminer-pool-list-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));
const engine = buildIntel({ stateDir });

const TAGS = new Set(['nocoin', 'falco', 'ndpi', 'sigma', 'operators']);
/** Pools that popular-site lists rank (they are pools all the same); named in the list's header. */
const RANKED_POOLS = ['2miners.com', 'f2pool.com', 'nicehash.com'];

const lines = readFileSync(BUILTIN_POOLS, 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'));

test('every entry says which sources named it', () => {
  assert.ok(lines.length > 500, `${lines.length} entries`);
  for (const l of lines) {
    const m = /^(\S+)\t# ([a-z,]+)$/.exec(l);
    assert.ok(m, `malformed line: ${l}`);
    for (const t of m[2]!.split(',')) assert.ok(TAGS.has(t), `unknown source ${t} in ${l}`);
  }
});

test('the network analysis reads the same list as the intel engine', () => {
  const domains = new Set(lines.map((l) => l.split('\t')[0]!).filter((v) => /[a-z]/.test(v)));
  assert.deepEqual([...networkLists().poolDomains].sort(), [...domains].sort());
  assert.ok(!existsSync(join(BUILTIN_POOLS, '..', '..', 'network', 'pool-domains.json')), 'no second list');
});

test('well-known pool hosts, regional and per-coin names included, are recognised', () => {
  const hosts = [
    'pool.supportxmr.com',
    'gulf.moneroocean.stream',
    'xmr.2miners.com',
    'pool.hashvault.pro',
    'xmr-eu1.nanopool.org',
    'de.monero.herominers.com',
    'auto.c3pool.org',
    'rx.unmineable.com',
    'xmr.f2pool.com',
    'xmrpool.eu',
    'randomxmonero.auto.nicehash.com',
    'xmr.kryptex.network',
    'us.woolypooly.com',
    'stratum.antpool.com',
    'btc.viabtc.io',
    'eu.zpool.ca',
    'stratum.zergpool.com',
    'eu1.ethermine.org',
    'rvn.2miners.com',
    'xmr.k1pool.com',
    'mining-dutch.nl',
    'prohashing.com',
    'xmr.pool.minergate.com',
    'mine.c3pool.com',
    'us2.litecoinpool.org',
  ];
  const missed = hosts.filter((h) => !engine.matchDomain(h).listed);
  assert.deepEqual(missed, []);
});

test('every pool the built-in Sigma rules name is in the list (the rules cannot know a pool the list does not)', () => {
  const dir = join(BUILTIN_POOLS, '..', '..', '..', 'rules', 'network');
  const named: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yml'))) {
    const rule = parseYaml(readFileSync(join(dir, f), 'utf8')) as { detection?: Record<string, unknown> };
    for (const sel of Object.values(rule.detection ?? {}))
      if (sel && typeof sel === 'object')
        for (const [field, v] of Object.entries(sel as Record<string, unknown>))
          if (/^(QueryName|DestinationHostname)(\|endswith)?$/.test(field))
            for (const d of Array.isArray(v) ? v : [v])
              if (typeof d === 'string') named.push(d.replace(/^\./, ''));
  }
  assert.ok(named.length >= 20, `${named.length} names in rules/network`);
  assert.deepEqual(
    named.filter((d) => !engine.matchDomain(d).listed),
    [],
  );
});

const LISTS = join(CORPORA, 'dga', 'benign-misp-warninglists');
test(
  'no name of the benign top lists is listed (Tranco, Umbrella, Majestic: top 10,000 each)',
  { skip: existsSync(LISTS) ? false : `benign lists not found at ${LISTS}` },
  () => {
    const listed: string[] = [];
    let checked = 0;
    for (const f of ['tranco10k.json', 'cisco_top10k.json', 'majestic_million.json']) {
      const doc = JSON.parse(readFileSync(join(LISTS, f), 'utf8')) as { list: string[] };
      for (const raw of doc.list.slice(0, 10_000)) {
        const name = raw.replace(/^\./, '');
        checked++;
        if (RANKED_POOLS.some((p) => name === p || name.endsWith(`.${p}`))) continue;
        if (engine.matchDomain(name).listed) listed.push(`${f}: ${name}`);
      }
    }
    assert.ok(checked > 29_000);
    assert.deepEqual(listed, []);
  },
);
