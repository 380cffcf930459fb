// Reads the DGA and benign lists of ../shared/corpora/dga into labelled,
// de-duplicated registrable labels. Only the training and evaluation scripts
// use this: the product never reads the corpora.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeName, type SuffixSet } from '../../src/ml/dga/normalize.ts';

export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpora/dga', import.meta.url));

/** andrewaeva/DGA list → family (GameoverZeus "zeus" and "new_goz" are the newgoz algorithm). */
const ANDREWAEVA: Record<string, string> = {
  'conficker.txt': 'conficker',
  'cryptolocker.txt': 'cryptolocker',
  'goz.txt': 'goz',
  'matsnu.txt': 'matsnu',
  'new_goz.txt': 'newgoz',
  'pushdo.txt': 'pushdo',
  'ramdo.txt': 'ramdo',
  'rovnix.txt': 'rovnix',
  'tinba.txt': 'tinba',
  'zeus.txt': 'newgoz',
};

/**
 * Families that share an algorithm lineage go to the same evaluation fold, so
 * that a "never seen" family is not a near-copy of a training one.
 */
export const CLAN: Record<string, string> = { goz: 'zeus-p2p', murofet: 'zeus-p2p', newgoz: 'zeus-p2p' };

/**
 * How a family builds its labels (from the generators published beside the
 * example lists), for reporting which kinds of DGA a per-label model can and
 * cannot catch. Families not listed compute their labels character by
 * character from an arithmetic or hash generator (`character`).
 * - `wordlist`: concatenates words or affixes from a list (matsnu, rovnix from
 *   a text, suppobox, nymaim2, gozi from Latin text, ngioweb from affixes);
 * - `mimic`: derives labels from real names (charbot mutates a list of
 *   benign domains; fosniw appends a counter to a fixed product-like name);
 * - `short`: labels of 3 to 5 characters (qsnatch).
 */
export const CONSTRUCTIONS = ['character', 'wordlist', 'mimic', 'short'] as const;
export type Construction = (typeof CONSTRUCTIONS)[number];

export const CONSTRUCTION: Record<string, Exclude<Construction, 'character'>> = {
  matsnu: 'wordlist',
  rovnix: 'wordlist',
  suppobox: 'wordlist',
  nymaim2: 'wordlist',
  gozi: 'wordlist',
  ngioweb: 'wordlist',
  charbot: 'mimic',
  fosniw: 'mimic',
  qsnatch: 'short',
};

export function constructionOf(family: string): Construction {
  return CONSTRUCTION[family] ?? 'character';
}

/**
 * Benign sources, grouped so that each group can be held out as a whole.
 * Lists ranked by DNS query volume (Cisco Umbrella top, OpenDNS top) are left
 * out: infected clients query DGA names often enough to rank them, and those
 * lists hold conficker-style names (`lporirxe.com`, `zxqjbnqbl.org`) that would
 * teach the model that generated names are benign.
 */
export const BENIGN_SOURCES: Record<string, readonly string[]> = {
  tranco: ['benign-misp-warninglists/tranco10k.json'],
  majestic: ['benign-misp-warninglists/majestic_million.json'],
  'alexa+moz': ['benign-misp-warninglists/alexa.json', 'benign-misp-warninglists/moz-top500.json'],
  'opendns-random': ['andrewaeva-DGA/dga_wordlists/opendns-random-domains.txt'],
};

/**
 * The benign source whose own labels (those no other source holds) the
 * shipped model is not trained on: they check its threshold (Tranco, the
 * popularity list the issue measured; CC0 through MISP warninglists, so a
 * sample can ship as a test fixture).
 */
export const SHIPPED_HELD_OUT_SOURCE = 'tranco';

/** The shipped model's benign training labels and the held-out check labels (see SHIPPED_HELD_OUT_SOURCE). */
export function shippedHeldOutBenign(corpus: Corpus): { training: string[]; check: LabelledName[] } {
  const training = [
    ...new Set(
      [...corpus.benign]
        .filter(([g]) => g !== SHIPPED_HELD_OUT_SOURCE)
        .flatMap(([, names]) => names.map((b) => b.label)),
    ),
  ];
  const inTraining = new Set(training);
  const check = (corpus.benign.get(SHIPPED_HELD_OUT_SOURCE) ?? []).filter((b) => !inTraining.has(b.label));
  return { training, check };
}

/**
 * Lists ranked by DNS query volume (Umbrella, OpenDNS top), never trained on.
 * They are what a network actually resolves, but they hold real DGA names
 * (conficker-style `.ws`/`.cc`/`.biz` labels among OpenDNS top, `lporirxe.com`
 * in Umbrella), so they are scored for reference only, not used to place or
 * to check the threshold (docs/dga.md, "Calibration").
 */
export const HELD_OUT_BENIGN_SOURCES: Record<string, readonly string[]> = {
  umbrella: ['benign-misp-warninglists/cisco_top20k.json'],
  'opendns-top': ['andrewaeva-DGA/dga_wordlists/opendns-top-domains.txt'],
};

/** A held-out benign label and the list (relative path) its first name came from. */
export type SourcedName = LabelledName & { source: string };

export interface HeldOutBenign {
  /** Labels that place the threshold (even FNV-1a hash of the label). */
  calibration: SourcedName[];
  /** Labels that check it (odd hash); never used for fitting or placing. */
  test: SourcedName[];
  /** Labels dropped because a training benign source holds them. */
  inTraining: number;
  /** Labels dropped because a DGA list of the corpus holds them (real DGA names the lists rank). */
  inDgaLists: number;
}

/** FNV-1a, 32 bits: a split of labels that does not depend on the seed or the list order. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The held-out benign labels: unique registrable labels of
 * `HELD_OUT_BENIGN_SOURCES` that no training benign source and no DGA list
 * of the corpus holds, split in two halves by hash.
 */
export function loadHeldOutBenign(corpus: Corpus, dynamicDns: SuffixSet): HeldOutBenign {
  const training = new Set([...corpus.benign.values()].flat().map((b) => b.label));
  const dga = new Set([...corpus.families.values()].flat().map((d) => d.label));
  for (const c of corpus.conflictLabels) dga.add(c.label);
  const seen = new Map<string, SourcedName>();
  let inTraining = 0;
  let inDgaLists = 0;
  for (const paths of Object.values(HELD_OUT_BENIGN_SOURCES)) {
    for (const rel of paths) {
      for (const name of readNames(rel)) {
        const n = normalizeName(name, dynamicDns);
        if (n.kind !== 'label' || seen.has(n.label)) continue;
        seen.set(n.label, { name, label: n.label, source: rel });
      }
    }
  }
  const calibration: SourcedName[] = [];
  const test: SourcedName[] = [];
  for (const x of seen.values()) {
    if (training.has(x.label)) inTraining++;
    else if (dga.has(x.label)) inDgaLists++;
    else (fnv1a(x.label) % 2 === 0 ? calibration : test).push(x);
  }
  return { calibration, test, inTraining, inDgaLists };
}

function readNames(rel: string): string[] {
  const text = readFileSync(join(CORPUS_DIR, rel), 'utf8');
  const lines = rel.endsWith('.json')
    ? (JSON.parse(text) as { list: string[] }).list
    : text.split('\n').map((l) => l.trim().split(/[\s,|]+/)[0] ?? '');
  const out: string[] = [];
  for (const l of lines) {
    const name = l.startsWith('.') ? l.slice(1) : l;
    if (DOMAIN.test(name)) out.push(name);
  }
  return out;
}

export interface LabelledName {
  /** Full name as listed (first occurrence). */
  name: string;
  /** Registrable label the model scores. */
  label: string;
}

export interface Corpus {
  /** family → unique labels (those also on a benign list removed). */
  families: Map<string, LabelledName[]>;
  /** benign source group → unique labels. */
  benign: Map<string, LabelledName[]>;
  /** Files read, relative to the corpus folder. */
  files: string[];
  /** Lines that were not a domain name, per file. */
  skipped: Record<string, number>;
  /** DGA labels dropped because a benign list holds the same label. */
  conflicts: number;
  /** Those labels with their family, for auditing. */
  conflictLabels: { family: string; label: string }[];
}

export function corpusAvailable(): boolean {
  return existsSync(join(CORPUS_DIR, 'SOURCES.txt'));
}

const DOMAIN = /^[a-z0-9_*-][a-z0-9._-]*\.[a-z0-9-]+\.?$/i;

export function loadCorpus(dynamicDns: SuffixSet): Corpus {
  const files: string[] = [];
  const skipped: Record<string, number> = {};
  const read = (rel: string): string[] => {
    files.push(rel);
    const text = readFileSync(join(CORPUS_DIR, rel), 'utf8');
    let lines: string[];
    if (rel.endsWith('.json')) lines = (JSON.parse(text) as { list: string[] }).list;
    else lines = text.split('\n').map((l) => l.trim().split(/[\s,|]+/)[0] ?? '');
    const out: string[] = [];
    for (const l of lines) {
      const name = l.startsWith('.') ? l.slice(1) : l;
      if (DOMAIN.test(name)) out.push(name);
      else if (l.length > 0) skipped[rel] = (skipped[rel] ?? 0) + 1;
    }
    return out;
  };
  const toLabels = (names: readonly string[], into: Map<string, LabelledName>): void => {
    for (const name of names) {
      const n = normalizeName(name, dynamicDns);
      if (n.kind !== 'label' || into.has(n.label)) continue;
      into.set(n.label, { name, label: n.label });
    }
  };

  const benign = new Map<string, LabelledName[]>();
  const benignLabels = new Set<string>();
  for (const [group, paths] of Object.entries(BENIGN_SOURCES)) {
    const m = new Map<string, LabelledName>();
    for (const p of paths) toLabels(read(p), m);
    benign.set(group, [...m.values()]);
    for (const l of m.keys()) benignLabels.add(l);
  }

  const byFamily = new Map<string, Map<string, LabelledName>>();
  const add = (family: string, names: readonly string[]): void => {
    let m = byFamily.get(family);
    if (m === undefined) {
      m = new Map();
      byFamily.set(family, m);
    }
    toLabels(names, m);
  };
  const bader = join(CORPUS_DIR, 'baderj-dga');
  for (const family of readdirSync(bader).sort()) {
    const dir = join(bader, family);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of walk(dir)) {
      const base = basename(file);
      if (!base.endsWith('.txt') || base.startsWith('words')) continue;
      add(family, read(relative(CORPUS_DIR, file)));
    }
  }
  for (const [file, family] of Object.entries(ANDREWAEVA))
    add(family, read(`andrewaeva-DGA/dga_wordlists/${file}`));

  let conflicts = 0;
  const conflictLabels: { family: string; label: string }[] = [];
  const families = new Map<string, LabelledName[]>();
  for (const [family, m] of [...byFamily.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const kept = [...m.values()].filter((x) => !benignLabels.has(x.label));
    for (const x of m.values())
      if (benignLabels.has(x.label)) conflictLabels.push({ family, label: x.label });
    conflicts += m.size - kept.length;
    if (kept.length > 0) families.set(family, kept);
  }
  return { families, benign, files, skipped, conflicts, conflictLabels };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out.sort();
}
