// Throughput of the DGA scorer beside the entropy > 3.8 baseline, same names,
// same process, one core (npm run bench:dga, or node --import tsx bench/dga/score.ts [N]).
// Names: every DGA and benign list in ../shared/corpora/dga, or synthetic ones
// when the corpus is absent.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../src/core/random.ts';
import { shannonEntropy } from '../../src/ml/dga/entropy.ts';
import { shippedScorer } from '../../src/ml/dga/index.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpora/dga', import.meta.url));
const N = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 3;

function corpusNames(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.txt') && !e.startsWith('words')) {
        for (const l of readFileSync(p, 'utf8').split('\n')) {
          const name = l.trim().split(/[\s,|]+/)[0] ?? '';
          if (name.includes('.')) out.push(name);
        }
      } else if (p.endsWith('.json')) {
        const list = (JSON.parse(readFileSync(p, 'utf8')) as { list?: string[] }).list ?? [];
        out.push(...list.filter((x) => x.length > 1));
      }
    }
  };
  walk(CORPUS);
  return out;
}

function syntheticNames(n: number): string[] {
  const random = seededRandom(3);
  const tlds = ['com', 'net', 'org', 'ru', 'co.uk', 'info'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let label = '';
    const len = 5 + Math.floor(random() * 15);
    for (let j = 0; j < len; j++) label += String.fromCharCode(97 + Math.floor(random() * 26));
    out.push(`${label}.${tlds[i % tlds.length]}`);
  }
  return out;
}

const source = existsSync(join(CORPUS, 'SOURCES.txt')) ? corpusNames() : syntheticNames(N);
const names: string[] = [];
for (let i = 0; names.length < N; i++) names.push(source[i % source.length]!);
const scorer = shippedScorer();

/**
 * Best of ROUNDS, in names per second of wall time and per second of this
 * process's CPU time: on a shared machine the CPU figure is the one-core rate.
 */
function time(fn: (s: string) => number): { wall: number; cpu: number; sink: number } {
  let bestWall = Number.POSITIVE_INFINITY;
  let bestCpu = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    for (const n of names) sink += fn(n);
    bestWall = Math.min(bestWall, performance.now() - t);
    const used = process.cpuUsage(c);
    bestCpu = Math.min(bestCpu, (used.user + used.system) / 1000);
  }
  return { wall: (names.length / bestWall) * 1000, cpu: (names.length / bestCpu) * 1000, sink };
}

// Warm both paths before timing so neither pays JIT compilation in its figure.
for (let i = 0; i < 20000; i++) {
  scorer.score(names[i]!);
  shannonEntropy(names[i]!);
}
const entropy = time((s) => (shannonEntropy(s.toLowerCase()) > 3.8 ? 1 : 0));
const model = time((s) => scorer.score(s));
const fmt = (x: number): string => `${Math.round(x).toLocaleString('en-US')} names/s`;
process.stdout.write(
  `${names.length.toLocaleString('en-US')} names (${source.length.toLocaleString('en-US')} distinct), best of ${ROUNDS}, one thread\n` +
    `                        per CPU second          per wall second\n` +
    `entropy > 3.8 baseline: ${fmt(entropy.cpu).padEnd(24)}${fmt(entropy.wall)}\n` +
    `deminer DGA model:      ${fmt(model.cpu).padEnd(24)}${fmt(model.wall)}\n` +
    `model / baseline:       ${(model.cpu / entropy.cpu).toFixed(2).padEnd(24)}${(model.wall / entropy.wall).toFixed(2)}\n`,
);
