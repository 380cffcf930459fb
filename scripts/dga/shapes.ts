// How many benign labels share the shape of the DGA families a per-label model
// cannot tell apart (node --import tsx scripts/dga/shapes.ts [WORDLIST]).
//
// For each shape, the share of each family's labels and of each benign
// source's labels that have it. When a family's labels all have a shape that
// 20 % of benign labels also have, no per-label score can flag 90 % of that
// family at 0.3 % false positives without knowing the family. Words come from
// an English word list (default /usr/share/dict/words, Debian `wamerican`),
// used here only: the product does not ship it.
import { existsSync, readFileSync } from 'node:fs';
import { loadDynamicDnsSuffixes } from '../../src/ml/dga/index.ts';
import { CORPUS_DIR, constructionOf, corpusAvailable, loadCorpus } from './corpus.ts';

const SHORT_WORDS = [
  'a',
  'i',
  'an',
  'as',
  'at',
  'be',
  'by',
  'do',
  'go',
  'he',
  'if',
  'in',
  'is',
  'it',
  'me',
  'my',
];
const SHORT_WORDS_2 = ['no', 'of', 'on', 'or', 'so', 'to', 'up', 'us', 'we'];

function loadWords(path: string): Set<string> {
  const keep = new Set([...SHORT_WORDS, ...SHORT_WORDS_2]);
  const out = new Set<string>();
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const w = raw.trim().toLowerCase();
    if (/^[a-z]+$/.test(w) && (w.length >= 3 || keep.has(w))) out.add(w);
  }
  return out;
}

/** Fewest words covering the whole label (undefined when it cannot be covered). */
function wordCount(label: string, words: ReadonlySet<string>): number | undefined {
  const n = label.length;
  const best = new Array<number>(n + 1).fill(Number.POSITIVE_INFINITY);
  best[0] = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(best[i]!)) continue;
    for (let len = 1; len <= Math.min(20, n - i); len++) {
      if (words.has(label.slice(i, i + len))) best[i + len] = Math.min(best[i + len]!, best[i]! + 1);
    }
  }
  return Number.isFinite(best[n]!) ? best[n] : undefined;
}

const SHAPES: { name: string; test: (label: string, words: ReadonlySet<string>) => boolean }[] = [
  { name: 'two dictionary words', test: (l, w) => wordCount(l, w) === 2 },
  { name: 'four or more dictionary words', test: (l, w) => (wordCount(l, w) ?? 0) >= 4 },
  { name: '3 to 5 letters or digits', test: (l) => /^[a-z0-9]{3,5}$/.test(l) },
];

function main(): void {
  if (!corpusAvailable()) {
    process.stderr.write(`corpus not found at ${CORPUS_DIR}\n`);
    process.exit(2);
  }
  const path = process.argv[2] ?? '/usr/share/dict/words';
  if (!existsSync(path)) {
    process.stderr.write(`${path}: word list not found (apt-get install wamerican, or pass a path)\n`);
    process.exit(2);
  }
  const words = loadWords(path);
  const corpus = loadCorpus(loadDynamicDnsSuffixes());
  const rows: [string, string[]][] = [
    ...[...corpus.benign].map(([g, xs]): [string, string[]] => [`benign: ${g}`, xs.map((x) => x.label)]),
    ...[...corpus.families]
      .filter(([f]) => constructionOf(f) !== 'character')
      .map(([f, xs]): [string, string[]] => [`${f} (${constructionOf(f)})`, xs.map((x) => x.label)]),
  ];
  const out = [
    `| labels | count | ${SHAPES.map((s) => s.name).join(' | ')} |`,
    `|---|---|${SHAPES.map(() => '---|').join('')}`,
  ];
  for (const [name, labels] of rows) {
    const cells = SHAPES.map((s) => {
      let k = 0;
      for (const l of labels) if (s.test(l, words)) k++;
      return `${((100 * k) / labels.length).toFixed(1)} %`;
    });
    out.push(`| ${name} | ${labels.length} | ${cells.join(' | ')} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
