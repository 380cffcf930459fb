/**
 * Rebuilds data/intel/pools.txt from the NoCoin filter list (MIT), the one
 * mining list among the development corpora whose licence lets us ship it:
 *   node --import tsx src/intel/build-pool-feed.ts ../shared/corpora/blocklists/adblock-nocoin-list
 * CoinBlockerLists (AGPL-3.0) and nDPI's copy (LGPL-3.0 project) are not
 * shipped; docs/intel.md shows how to add them as feeds.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAdblock } from './parsers/adblock.ts';
import { parseHosts } from './parsers/hosts.ts';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: build-pool-feed.ts DIR-OF-adblock-nocoin-list\n');
  process.exit(2);
}
const files = ['hosts.txt', 'nocoin.txt'] as const;
const names = new Set<string>();
const sums: string[] = [];
for (const f of files) {
  const text = readFileSync(join(dir, f), 'utf8');
  sums.push(`#   ${f} sha256 ${createHash('sha256').update(text).digest('hex')}`);
  const opts = { source: 'nocoin', confidence: 80, file: f };
  const r = f === 'hosts.txt' ? parseHosts(text, opts) : parseAdblock(text, opts);
  for (const i of r.indicators) names.add(i.value);
  process.stderr.write(
    `${f}: ${r.indicators.length} indicators, ${r.issueCount} issue(s), ${r.ignored} ignored\n`,
  );
}
const header = [
  '# deminer built-in mining feed: browser-mining and pool domains.',
  '# Built by src/intel/build-pool-feed.ts from the NoCoin filter list',
  '# (github.com/hoshsadiq/adblock-nocoin-list at 9f3caa9382a3a35a0f4c605da563e16de83679d4,',
  '# MIT licence, Copyright (c) 2017 Hosh; see LICENSE-nocoin.txt):',
  ...sums,
  '# Domains (each also matches its subdomains) and the few addresses the list names.',
];
writeFileSync(
  new URL('../../data/intel/pools.txt', import.meta.url),
  `${header.join('\n')}\n${[...names].sort().join('\n')}\n`,
);
process.stderr.write(`${names.size} domains written\n`);
