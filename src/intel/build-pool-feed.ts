/**
 * Rebuilds data/intel/pools.txt, the one shipped pool list (the intel
 * engine's built-in feed, the host scan's, hunt's and the network analysis'
 * pool check), from sources whose licences let it ship:
 *
 *   node --import tsx src/intel/build-pool-feed.ts \
 *     [--corpora ../shared/corpora] [--falco FILE-falco-sandbox_rules.yaml]
 *
 * - NoCoin filter list (MIT): corpora/blocklists/adblock-nocoin-list
 * - Falco's `miner_domains` (Apache-2.0): rules/falco-sandbox_rules.yaml of
 *   falcosecurity/rules, passed with --falco
 * - nDPI's mining hosts (names only, facts): corpora/blocklists/nDPI/mining_hosts.txt
 * - SigmaHQ rules that name pools (DRL 1.1, attribution): corpora/sigma
 * - pools' own domains: data/intel/sources/pool-operators.txt
 *
 * Entries covered by a listed parent domain are folded into it (every entry
 * matches its subdomains); each line keeps the tags of every source that
 * named it or a host under it. Anything that would match a popular benign
 * name (top 10,000 of the Tranco, Umbrella and Majestic lists in
 * corpora/dga/benign-misp-warninglists), a dynamic-DNS provider's apex or a
 * cloud/CDN apex is dropped and reported. CoinBlockerLists (GPL) is not
 * shipped; docs/intel.md shows it as a feed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseDomain } from 'tldts';
import { parse as parseYaml } from 'yaml';
import { classifyValue, normalizeDomain } from './classify.ts';
import { parseAdblock } from './parsers/adblock.ts';
import { parseHosts } from './parsers/hosts.ts';
import { parsePlain } from './parsers/plain.ts';

const args = process.argv.slice(2);
function flag(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const corpora = flag('--corpora') ?? '../shared/corpora';
const falcoFile = flag('--falco');
const out = new URL('../../data/intel/pools.txt', import.meta.url);
const operatorsFile = new URL('../../data/intel/sources/pool-operators.txt', import.meta.url);

/** Where each value came from (tags), in the order the sources are read. */
const tags = new Map<string, Set<string>>();
const provenance: string[] = [];

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
function add(value: string, tag: string): void {
  const set = tags.get(value) ?? new Set<string>();
  set.add(tag);
  tags.set(value, set);
}
function note(tag: string, file: string, text: string, count: number): void {
  provenance.push(`#   ${tag}: ${file} sha256 ${sha(text)} (${count} values)`);
  process.stderr.write(`${tag}: ${file}: ${count} values\n`);
}

// NoCoin (MIT).
const nocoin = join(corpora, 'blocklists', 'adblock-nocoin-list');
for (const f of ['hosts.txt', 'nocoin.txt']) {
  const text = readFileSync(join(nocoin, f), 'utf8');
  const opts = { source: 'nocoin', confidence: 80, file: f };
  const r = f === 'hosts.txt' ? parseHosts(text, opts) : parseAdblock(text, opts);
  for (const i of r.indicators) add(i.value, 'nocoin');
  note('nocoin', `adblock-nocoin-list/${f}`, text, r.indicators.length);
}

// nDPI mining hosts (LGPL-3.0 project; only the names, which are facts, are taken).
{
  const f = join(corpora, 'blocklists', 'nDPI', 'mining_hosts.txt');
  const text = readFileSync(f, 'utf8');
  const r = parsePlain(text, { source: 'ndpi', confidence: 80, file: f });
  for (const i of r.indicators) add(i.value, 'ndpi');
  note('ndpi', 'nDPI/mining_hosts.txt', text, r.indicators.length);
}

// Falco's miner_domains (and its http/https variants), Apache-2.0.
if (falcoFile) {
  const text = readFileSync(falcoFile, 'utf8');
  const doc = parseYaml(text) as unknown;
  let n = 0;
  if (Array.isArray(doc))
    for (const item of doc as Record<string, unknown>[]) {
      const list = item['list'];
      if (typeof list !== 'string' || !/miner_domains$/.test(list)) continue;
      for (const v of (item['items'] as unknown[] | undefined) ?? []) {
        const c = typeof v === 'string' ? normalizeDomain(v) : undefined;
        if (c?.ok) {
          add(c.value, 'falco');
          n++;
        }
      }
    }
  note('falco', 'falcosecurity/rules rules/falco-sandbox_rules.yaml', text, n);
} else process.stderr.write('falco: skipped (no --falco FILE)\n');

// SigmaHQ rules that name pools (DRL 1.1): every domain-shaped value in their detection.
const SIGMA_RULES = [
  'rules/network/zeek/zeek_dns_mining_pools.yml',
  'rules/network/dns/net_dns_pua_cryptocoin_mining_xmr.yml',
  'rules/linux/network_connection/net_connection_lnx_crypto_mining_indicators.yml',
  'rules/windows/network_connection/net_connection_win_domain_crypto_mining_pools.yml',
];
for (const rel of SIGMA_RULES) {
  const f = join(corpora, 'sigma', rel);
  if (!existsSync(f)) continue;
  const text = readFileSync(f, 'utf8');
  const rule = parseYaml(text) as { id?: string; detection?: unknown };
  let n = 0;
  const walk = (v: unknown, key: string): void => {
    if (key === 'condition') return;
    if (typeof v === 'string') {
      const info = parseDomain(v);
      if (info.isIp || !info.isIcann || !info.domain) return;
      const c = normalizeDomain(v);
      if (c.ok) {
        add(c.value, 'sigma');
        n++;
      }
    } else if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, k);
  };
  walk(rule.detection, '');
  note('sigma', `SigmaHQ/sigma ${rel} (id ${rule.id ?? '?'})`, text, n);
}

// The pools' own domains (deminer, hand-curated with the page each was seen on).
{
  const text = readFileSync(operatorsFile, 'utf8');
  const r = parsePlain(text, { source: 'operators', confidence: 80, file: 'pool-operators.txt' });
  for (const i of r.indicators) add(i.value, 'operators');
  note('operators', 'data/intel/sources/pool-operators.txt', text, r.indicators.length);
}

// Never list these or anything above them: shared hosting, cloud and CDN apexes
// whose subdomains belong to anyone (a pool behind them is listed by its full name).
const NEVER = [
  'github.com',
  'github.io',
  'githubusercontent.com',
  'gitlab.com',
  'bitbucket.org',
  'amazonaws.com',
  'cloudfront.net',
  'azurewebsites.net',
  'azureedge.net',
  'windows.net',
  'googleusercontent.com',
  'appspot.com',
  'googleapis.com',
  'cloudflare.com',
  'workers.dev',
  'pages.dev',
  'herokuapp.com',
  'now.sh',
  'vercel.app',
  'netlify.app',
  'akamaihd.net',
  'akamaized.net',
  'fastly.net',
  'edgekey.net',
  'digitaloceanspaces.com',
  'blogspot.com',
  'wordpress.com',
  'wixsite.com',
  'weebly.com',
  'page.tl',
  'pastebin.com',
];

function readWarningList(name: string, take: number): string[] {
  const f = join(corpora, 'dga', 'benign-misp-warninglists', name);
  if (!existsSync(f)) return [];
  const doc = JSON.parse(readFileSync(f, 'utf8')) as { list: string[] };
  return doc.list.slice(0, take).map((d) => d.replace(/^\./, '').toLowerCase());
}
const benign = [
  ...readWarningList('tranco10k.json', 10_000),
  ...readWarningList('cisco_top10k.json', 10_000),
  ...readWarningList('majestic_million.json', 10_000),
  ...NEVER,
];
const dynamicDns = new Set(readWarningList('dynamic-dns.json', Number.MAX_SAFE_INTEGER));

/** Every suffix of `name` that has at least two labels (name itself included). */
function suffixes(name: string): string[] {
  const labels = name.split('.');
  const outList: string[] = [];
  for (let i = 0; i < labels.length - 1; i++) outList.push(labels.slice(i).join('.'));
  return outList;
}

// An entry goes when a benign name falls under it (it would match that name),
// unless the entry is a pool operator's own domain: popular pools are popular
// (nicehash.com ranks in Tranco) and are still pools. Those are named in the header.
const dropped = new Map<string, string>();
const rankedPools = new Map<string, string>();
const covers = new Map<string, string>();
for (const b of benign) for (const s of suffixes(b)) if (!covers.has(s)) covers.set(s, b);
for (const v of tags.keys()) {
  const c = classifyValue(v);
  if (!c.ok || c.type !== 'domain') continue;
  const hit = covers.get(v);
  const operator = tags.get(v)?.has('operators') === true;
  if (hit !== undefined && operator && !NEVER.includes(hit)) rankedPools.set(v, hit);
  else if (hit !== undefined) dropped.set(v, `would match ${hit}`);
  else if (dynamicDns.has(v)) dropped.set(v, 'a dynamic-DNS provider');
}
for (const v of dropped.keys()) tags.delete(v);

// Fold hosts under a listed parent into the parent, tags and all.
const values = [...tags.keys()];
const kept = new Set(values);
for (const v of values) {
  if (!v.includes('.') || /^[\d.:[\]/]+$/.test(v)) continue;
  for (const s of suffixes(v).slice(1))
    if (kept.has(s)) {
      for (const t of tags.get(v) ?? []) tags.get(s)?.add(t);
      kept.delete(v);
      break;
    }
}

const ORDER = ['nocoin', 'falco', 'ndpi', 'sigma', 'operators'];
const lines = [...kept]
  .sort()
  .map(
    (v) =>
      `${v}\t# ${[...(tags.get(v) ?? [])].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)).join(',')}`,
  );
const header = [
  '# deminer pool list: mining-pool and browser-mining domains and the few addresses the sources name.',
  '# One list for every pool check (intel built-in feed, host scan, hunt, network analysis).',
  '# Each domain also matches its subdomains. Rebuilt by src/intel/build-pool-feed.ts;',
  '# sources, licences and attribution in data/intel/PROVENANCE.md. Tags after "#":',
  '#   nocoin    NoCoin filter list, hoshsadiq/adblock-nocoin-list@9f3caa9 (MIT, Copyright (c) 2017 Hosh; LICENSE-nocoin.txt)',
  '#   falco     Falco rules miner_domains, falcosecurity/rules@c72713e (Apache-2.0, The Falco Authors; LICENSE-falco.txt)',
  '#   ndpi      nDPI mining_hosts.txt host names (facts), ntop/nDPI (project LGPL-3.0)',
  '#   sigma     SigmaHQ rules naming pools, SigmaHQ/sigma@8eaafff (Detection Rule License 1.1; see PROVENANCE.md)',
  "#   operators pools' own domains, data/intel/sources/pool-operators.txt (deminer)",
  '# Inputs:',
  ...provenance,
  `# Dropped as too broad (${dropped.size}): ${[...dropped.entries()].map(([v, why]) => `${v} (${why})`).join('; ') || 'none'}`,
  `# Pool operators that the popular lists rank, kept because they are pools (${rankedPools.size}): ${[...rankedPools.keys()].sort().join(', ') || 'none'}`,
];
writeFileSync(out, `${header.join('\n')}\n${lines.join('\n')}\n`);
process.stderr.write(
  `${lines.length} entries written to ${relative(process.cwd(), out.pathname)}; ${dropped.size} dropped\n`,
);
for (const [v, why] of dropped) process.stderr.write(`  dropped ${v}: ${why}\n`);
for (const v of rankedPools.keys())
  process.stderr.write(`  kept ${v}: a pool operator the popular lists rank\n`);
