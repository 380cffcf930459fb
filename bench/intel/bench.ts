/**
 * Intel engine benchmark: one million indicators synthesised from real
 * mining lists, loaded from the state-directory form `intel update` writes,
 * then domain and IP lookups, beside a naive baseline (a Set of names
 * probed suffix by suffix; a Set of addresses plus a linear CIDR scan) on
 * the same input in the same run.
 *
 *   node --expose-gc --import tsx bench/intel/bench.ts [--indicators 1000000] [--lookups 2000000]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIntelConfig } from '../../src/intel/config.ts';
import { formatIPv4, maskV4, parseIPv4, parseIPv6 } from '../../src/intel/ip.ts';
import { buildIntel } from '../../src/intel/load.ts';
import { parsePlain } from '../../src/intel/parsers/plain.ts';
import { compiledPath, serializeIndicators, writeFeedState, writeFileAtomic } from '../../src/intel/state.ts';
import type { Indicator } from '../../src/intel/types.ts';

// Load time and memory are measured in fresh processes, as a CLI or agent starts:
// a big live heap in this process would slow every collection and blur both figures.
const childIdx = process.argv.indexOf('--child-load');
if (childIdx > 0) {
  const [mode, stateDir] = [process.argv[childIdx + 1], process.argv[childIdx + 2]!];
  const g = (globalThis as { gc?: () => void }).gc ?? (() => {});
  g();
  const before = process.memoryUsage();
  const t = performance.now();
  let keep: unknown;
  if (mode === 'engine') {
    keep = buildIntel({
      stateDir,
      config: parseIntelConfig(
        'intel:\n  builtin: false\n  builtin_allow: false\n  feeds:\n    - name: synthetic\n      file: none\n',
        'bench',
      ),
    });
  } else {
    // Baseline: the same file into a Set of values, no validation, no metadata.
    const set = new Set<string>();
    const text = readFileSync(compiledPath(stateDir, 'synthetic'), 'utf8');
    for (const line of text.split('\n')) {
      const t1 = line.indexOf('\t');
      if (t1 > 0 && line[0] !== '#') set.add(line.slice(t1 + 1, line.indexOf('\t', t1 + 1)));
    }
    keep = set;
  }
  const ms = performance.now() - t;
  g();
  g();
  const after = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      ms,
      heap: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers,
      rss: after.rss,
      ok: keep !== undefined,
    }),
  );
  process.exit(0);
}

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('indicators', 1_000_000);
const LOOKUPS = arg('lookups', 2_000_000);
const corpora = fileURLToPath(new URL('../../../shared/corpora/', import.meta.url));
if (!existsSync(`${corpora}blocklists`)) {
  process.stderr.write('needs ../shared/corpora beside the checkout\n');
  process.exit(2);
}
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

// Real inputs: pool domains (CoinBlockerLists, NoCoin) and mining-server IPs; benign names (Tranco, Cisco).
const realDomains = [
  ...parsePlain(readFileSync(`${corpora}blocklists/CoinBlockerLists-2018/list.txt`, 'utf8'), {
    source: 'x',
    confidence: 1,
    file: 'list.txt',
  }).indicators.map((i) => i.value),
];
const realIps = readFileSync(`${corpora}blocklists/CoinBlockerLists-2018/MiningServerIPList.txt`, 'utf8')
  .split('\n')
  .map((l) => parseIPv4(l.trim()))
  .filter((n) => n >= 0);
const benign = (
  JSON.parse(readFileSync(`${corpora}dga/benign-misp-warninglists/cisco_top20k.json`, 'utf8')) as {
    list: string[];
  }
).list;

// Synthesis: 80 % domains (real pool names under numbered labels, as pools name their
// regional endpoints), 17 % addresses near real mining servers, 2 % CIDRs, 1 % IPv6
// (addresses, /64s and /48s in the documentation prefix: the lists hold almost none).
let seed = 42;
const rnd = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
};
const indicators: Indicator[] = [];
const domainSet = new Set<string>();
const ipSet = new Set<string>();
const cidrs: [number, number][] = [];
const nDomains = Math.round(N * 0.8);
for (let i = 0; domainSet.size < nDomains; i++) {
  const base = realDomains[i % realDomains.length]!;
  const name = i < realDomains.length ? base : `n${(i / realDomains.length) | 0}-${rnd() % 1000}.${base}`;
  if (domainSet.has(name)) continue;
  domainSet.add(name);
  indicators.push({ value: name, type: 'domain', source: 'synthetic', confidence: 70 });
}
while (ipSet.size < Math.round(N * 0.17)) {
  const ip = (realIps[rnd() % realIps.length]! ^ (rnd() & 0xffff)) >>> 0;
  const s = formatIPv4(ip);
  if (ipSet.has(s)) continue;
  ipSet.add(s);
  indicators.push({ value: s, type: 'ipv4', source: 'synthetic', confidence: 70 });
}
const v6Set = new Set<string>();
const hex = () => (rnd() & 0xffff).toString(16);
while (v6Set.size < Math.round(N * 0.01)) {
  const kind = rnd() % 3;
  const s =
    kind === 0
      ? `2001:db8:${hex()}:${hex()}::${hex()}`
      : kind === 1
        ? `2001:db8:${hex()}:${hex()}::/64`
        : `2001:db8:${hex()}::/48`;
  if (v6Set.has(s)) continue;
  v6Set.add(s);
  indicators.push({ value: s, type: kind === 0 ? 'ipv6' : 'ipv6-cidr', source: 'synthetic', confidence: 70 });
}
while (indicators.length < N) {
  const len = 20 + (rnd() % 9);
  const net = (rnd() & maskV4(len)) >>> 0;
  cidrs.push([net, len]);
  indicators.push({
    value: `${formatIPv4(net)}/${len}`,
    type: 'ipv4-cidr',
    source: 'synthetic',
    confidence: 70,
  });
}

const dir = mkdtempSync(join(tmpdir(), 'deminer-intel-bench-'));
const config = parseIntelConfig(
  `intel:\n  builtin: false\n  builtin_allow: false\n  feeds:\n    - name: synthetic\n      file: none\n`,
  'bench',
);
writeFileAtomic(compiledPath(dir, 'synthetic'), serializeIndicators(indicators));
writeFeedState(dir, {
  name: 'synthetic',
  role: 'block',
  origin: 'none',
  format: 'plain',
  status: 'ok',
  indicators: indicators.length,
  issues: 0,
  bytes: 0,
  intervalMs: 3_600_000,
  lastSuccess: new Date().toISOString(),
});
const plainText = indicators.map((i) => i.value).join('\n');

// Queries are decoded from bytes, as names and addresses parsed off the wire or out of
// logs are: a string built by concatenation is a rope that every character read walks.
const wire = (s: string) => Buffer.from(s, 'latin1').toString('latin1');
// Queries: half hits (subdomains of listed names), half misses (benign top sites).
const names: string[] = [];
for (let i = 0; i < 1 << 16; i++) {
  const listed = realDomains[rnd() % realDomains.length]!;
  names.push(wire(i % 2 === 0 ? `x${i}.${listed}` : `www.${benign[rnd() % benign.length]}`));
}
// Fresh strings, as names parsed off the wire are: V8 caches a string's hash after first use.
const missNames = names.filter((_, i) => i % 2 === 1).map((n) => wire(`m.${n}`));
const missMask = (1 << 15) - 1;
const ipQueries: string[] = [];
const ipNums: number[] = [];
const ipArr = [...ipSet];
for (let i = 0; i < 1 << 16; i++) {
  const s = i % 2 === 0 ? ipArr[rnd() % ipArr.length]! : formatIPv4(rnd());
  ipQueries.push(wire(s));
  ipNums.push(parseIPv4(s));
}
const mask = (1 << 16) - 1;
// IPv6 queries: half inside listed addresses and prefixes, half elsewhere in the documentation prefix.
const v6Arr = [...v6Set];
const v6Queries: string[] = [];
for (let i = 0; i < 1 << 16; i++) {
  const base = v6Arr[rnd() % v6Arr.length]!;
  const slash = base.indexOf('/');
  const net = slash < 0 ? base : base.slice(0, slash);
  v6Queries.push(
    wire(
      i % 2 === 0
        ? slash < 0
          ? net
          : `${net}${hex()}:${hex()}`
        : `2001:db8:${hex()}:${hex()}:${hex()}::${hex()}`,
    ),
  );
}
const v6Prefixes = v6Arr.map((v) => {
  const [a, l] = v.split('/');
  return [parseIPv6(a!)!, Number(l ?? 128)] as const;
});

function rate(label: string, count: number, fn: (i: number) => boolean): { perSec: number; hits: number } {
  for (let i = 0; i < 50_000; i++) fn(i & mask); // warm-up
  let hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) if (fn(i & mask)) hits++;
  const s = (performance.now() - t0) / 1000;
  void label;
  return { perSec: count / s, hits };
}

const childLoad = (mode: string) => {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child-load', mode, dir],
    { encoding: 'utf8' },
  );
  return JSON.parse(r.stdout) as { ms: number; heap: number; rss: number };
};
const engineLoad = childLoad('engine');
const naiveLoad = childLoad('naive');
const engine = buildIntel({ stateDir: dir, config });

const p0 = performance.now();
const parsed = parsePlain(plainText, { source: 'raw', confidence: 70, file: 'raw' });
const parseMs = performance.now() - p0;

const naiveDomains = new Set<string>(domainSet);
const naiveIps = new Set<string>(ipSet);

const naiveDomain = (name: string): boolean => {
  const labels = name.toLowerCase().split('.');
  for (let i = 0; i < labels.length; i++) if (naiveDomains.has(labels.slice(i).join('.'))) return true;
  return false;
};
const naiveIp = (s: string): boolean => {
  if (naiveIps.has(s)) return true;
  const n = parseIPv4(s);
  for (const [net, len] of cidrs) if ((n & maskV4(len)) >>> 0 === net) return true;
  return false;
};

const dEngine = rate('domain', LOOKUPS, (i) => engine.matchDomain(names[i]!).listed);
const dNaive = rate('naive domain', LOOKUPS / 4, (i) => naiveDomain(names[i]!));
const mEngine = rate('domain miss', LOOKUPS, (i) => engine.matchDomain(missNames[i & missMask]!).listed);
const mNaive = rate('naive miss', LOOKUPS / 4, (i) => naiveDomain(missNames[i & missMask]!));
// Machine calibration: one exact Set.has per name (not a suffix match) on the same fresh strings.
const calib = rate('calibration', LOOKUPS, (i) => naiveDomains.has(missNames[i & missMask]!));
const iEngine = rate('ip', LOOKUPS, (i) => engine.matchIp(ipQueries[i]!).listed);
const iEngineNum = rate('ip numeric', LOOKUPS, (i) => engine.matchV4(ipNums[i]!).listed);
const iNaive = rate('naive ip', 2_000, (i) => naiveIp(ipQueries[i]!));
const v6Engine = rate('ipv6', LOOKUPS, (i) => engine.matchIp(v6Queries[i]!).listed);
const v6Naive = rate('naive ipv6', 2_000, (i) => naiveV6(v6Queries[i]!));
rmSync(dir, { recursive: true, force: true });

function naiveV6(s: string): boolean {
  const bytes = parseIPv6(s);
  if (!bytes) return false;
  for (const [net, len] of v6Prefixes) {
    let ok = true;
    for (let b = 0; b < 16 && ok; b++) {
      const bits = Math.max(0, Math.min(8, len - b * 8));
      const m = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
      ok = (bytes[b]! & m) === (net[b]! & m);
    }
    if (ok) return true;
  }
  return false;
}

const f = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (x: number, y: number, digits = 1) => `${(x / y).toFixed(digits)}×`;
const rows: [string, string, string, string][] = [
  [
    `load ${f(indicators.length)} indicators (fresh process)`,
    `${f(engineLoad.ms)} ms`,
    `${f(naiveLoad.ms)} ms`,
    ratio(engineLoad.ms, naiveLoad.ms),
  ],
  [
    'heap + array buffers after load',
    mb(engineLoad.heap),
    mb(naiveLoad.heap),
    ratio(engineLoad.heap, naiveLoad.heap),
  ],
  ['process RSS after load', mb(engineLoad.rss), mb(naiveLoad.rss), ratio(engineLoad.rss, naiveLoad.rss)],
  ['domain lookups/s (50 % hits)', f(dEngine.perSec), f(dNaive.perSec), ratio(dEngine.perSec, dNaive.perSec)],
  [
    'domain lookups/s (fresh misses)',
    f(mEngine.perSec),
    f(mNaive.perSec),
    ratio(mEngine.perSec, mNaive.perSec),
  ],
  ['calibration: one exact Set.has per name', f(calib.perSec), '—', '—'],
  [
    'IPv4 lookups/s, text (50 % hits)',
    f(iEngine.perSec),
    f(iNaive.perSec),
    ratio(iEngine.perSec, iNaive.perSec, 0),
  ],
  ['IPv4 lookups/s, u32 (50 % hits)', f(iEngineNum.perSec), '—', '—'],
  [
    'IPv6 lookups/s, text (50 % hits)',
    f(v6Engine.perSec),
    f(v6Naive.perSec),
    ratio(v6Engine.perSec, v6Naive.perSec, 0),
  ],
  [`raw list parse + validate (${f(parsed.indicators.length)})`, `${f(parseMs)} ms`, '—', '—'],
];
process.stdout.write(
  `indicators: ${f(indicators.length)} (${f(domainSet.size)} domains, ${f(ipSet.size)} IPv4, ${f(cidrs.length)} IPv4 CIDRs, ${f(v6Set.size)} IPv6); node ${process.version}\n`,
);
process.stdout.write('| measure | deminer | naive baseline | ratio |\n|---|---|---|---|\n');
for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
// Both must agree on what is listed, or the figures compare different work.
const agree = names.slice(0, 5000).every((n) => engine.matchDomain(n).listed === naiveDomain(n));
const agreeIp = ipQueries.slice(0, 500).every((s) => engine.matchIp(s).listed === naiveIp(s));
const agreeV6 = v6Queries.slice(0, 300).every((s) => engine.matchIp(s).listed === naiveV6(s));
process.stdout.write(`results agree with the baseline: domains ${agree}, IPv4 ${agreeIp}, IPv6 ${agreeV6}\n`);
