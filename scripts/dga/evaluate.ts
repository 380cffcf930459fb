// Family-split evaluation of the DGA classifier (npm run eval:dga [-- --seed N]).
//
// Four folds by default (`--folds N` or `--folds all` for more family groups,
// `--split names` for known families). Fold i trains on the DGA families
// outside family-group i and on the benign labels outside benign source
// i mod 4, then scores family-group i (never seen) and that benign source
// (never seen). Each fold's model is centred exactly as the shipped model is
// (scripts/dga/train.ts: at most SLICE_TARGET_FPR of a held-out slice of its
// own training benign labels score >= 0.5; `--slice-fpr X` to try another
// target, 0.003 was the procedure before issue 18), so "detected" below means
// score >= 0.5 with the production procedure. The query-volume lists
// (Umbrella, OpenDNS top; never trained on, but holding real DGA names) are
// scored by every fold for reference. The entropy > 3.8 baseline runs on the
// same names.

import { seededRandom, shuffled } from '../../src/core/random.ts';
import { DEFAULT_DGA_HOST_RULE, dgaHostMinimum } from '../../src/detect/network/dga-host/minimum.ts';
import { shannonEntropy } from '../../src/ml/dga/entropy.ts';
import { loadDynamicDnsSuffixes } from '../../src/ml/dga/index.ts';
import { margin, sigmoid } from '../../src/ml/dga/model.ts';
import { centerAt, DEFAULT_TRAIN_OPTIONS, trainDgaModel } from '../../src/ml/dga/train.ts';
import {
  BENIGN_SOURCES,
  CLAN,
  CONSTRUCTIONS,
  CORPUS_DIR,
  constructionOf,
  corpusAvailable,
  HELD_OUT_BENIGN_SOURCES,
  type LabelledName,
  loadCorpus,
  loadHeldOutBenign,
} from './corpus.ts';
import { buildExamples, SLICE_TARGET_FPR, splitBenign, thresholdMargin } from './dataset.ts';
import { auc, pct, rate, tprAtFpr } from './metrics.ts';

const TARGET_FPR = 0.003;
const EVAL_CAP = 5000;
const FOLDS = Object.keys(BENIGN_SOURCES).length;

function argSeed(): number {
  const i = process.argv.indexOf('--seed');
  return i >= 0 ? Number(process.argv[i + 1]) : 1;
}

/** `--l2 X`, `--epochs N`, `--rate X` override the shipped training options for experiments. */
function optionOverrides(): Partial<typeof DEFAULT_TRAIN_OPTIONS> {
  const out: Partial<typeof DEFAULT_TRAIN_OPTIONS> = {};
  const get = (flag: string): number | undefined => {
    const i = process.argv.indexOf(flag);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const l2 = get('--l2');
  const epochs = get('--epochs');
  const rate = get('--rate');
  const hiddenRate = get('--hidden-rate');
  if (hiddenRate !== undefined) out.hiddenRate = hiddenRate;
  if (l2 !== undefined) out.l2 = l2;
  if (epochs !== undefined) out.epochs = epochs;
  if (rate !== undefined) out.learningRate = rate;
  return out;
}

interface Scored {
  score: number;
  entropy: number;
}

function main(): void {
  if (!corpusAvailable()) {
    process.stderr.write(`corpus not found at ${CORPUS_DIR}: nothing to evaluate\n`);
    process.exit(2);
  }
  const seed = argSeed();
  const started = performance.now();
  const suffixes = loadDynamicDnsSuffixes();
  const corpus = loadCorpus(suffixes);
  const random = seededRandom(seed);
  const clans = [...new Set([...corpus.families.keys()].map((f) => CLAN[f] ?? f))].sort();
  const byNames = process.argv[process.argv.indexOf('--split') + 1] === 'names';
  // `--folds N` (family split): N family groups; `--folds all` holds out one family (or clan) at a time.
  // Benign sources rotate: fold i holds out benign source i mod 4.
  const foldsAt = process.argv.indexOf('--folds');
  const foldsArg = foldsAt >= 0 ? process.argv[foldsAt + 1] : undefined;
  const familyFolds =
    byNames || foldsArg === undefined ? FOLDS : foldsArg === 'all' ? clans.length : Number(foldsArg);
  if (!Number.isInteger(familyFolds) || familyFolds < FOLDS || familyFolds > clans.length) {
    process.stderr.write(`--folds: expected 'all' or an integer from ${FOLDS} to ${clans.length}\n`);
    process.exit(2);
  }
  const foldOfClan = new Map(shuffled(clans, random).map((c, i) => [c, i % familyFolds]));
  const foldOf = (family: string): number => foldOfClan.get(CLAN[family] ?? family)!;
  const groups = Object.keys(BENIGN_SOURCES);
  // `--split names`: every family in every fold, its names split in FOLDS parts (known families, new names).
  // `--show-fp N`: print the N highest-scoring held-out benign labels of each fold (auditing the benign lists).
  const showFpAt = process.argv.indexOf('--show-fp');
  const showFp = showFpAt >= 0 ? Number(process.argv[showFpAt + 1]) : 0;
  if (showFp > 0) {
    process.stderr.write(
      `DGA labels dropped because a benign list holds them (${corpus.conflicts}): ${corpus.conflictLabels.map((c) => `${c.family}:${c.label}`).join(' ')}\n`,
    );
  }
  const sliceFprAt = process.argv.indexOf('--slice-fpr');
  const sliceFpr = sliceFprAt >= 0 ? Number(process.argv[sliceFprAt + 1]) : SLICE_TARGET_FPR;
  const heldOut = loadHeldOutBenign(corpus, suffixes);
  /** The query-volume lists never trained on, scored by every fold's model (for reference). */
  const heldOutScored: Scored[] = [];
  const parts = new Map<string, LabelledName[][]>();
  for (const [family, names] of corpus.families) {
    const p: LabelledName[][] = Array.from({ length: FOLDS }, () => []);
    shuffled(names, random).forEach((n, i) => {
      p[i % FOLDS]!.push(n);
    });
    parts.set(family, p);
  }

  const perFamily = new Map<string, { fold: number; scored: Scored[] }>();
  const perBenign = new Map<string, Scored[]>();
  const foldRows: string[] = [];
  for (let fold = 0; fold < familyFolds; fold++) {
    const group = groups[fold % FOLDS]!;
    const testBenign = corpus.benign.get(group)!;
    const testSet = new Set(testBenign.map((b) => b.label));
    const trainBenignAll = [
      ...new Set(
        groups
          .filter((g) => g !== group)
          .flatMap((g) => corpus.benign.get(g)!.map((b) => b.label))
          .filter((l) => !testSet.has(l)),
      ),
    ];
    const [trainBenign, calib] = splitBenign(trainBenignAll, 0.15, seed);
    const trainFamilies = byNames
      ? new Map([...parts].map(([f, p]) => [f, p.filter((_, k) => k !== fold).flat()]))
      : new Map([...corpus.families].filter(([f]) => foldOf(f) !== fold));
    const raw = trainDgaModel(buildExamples(trainFamilies, trainBenign, seed), {
      ...DEFAULT_TRAIN_OPTIONS,
      ...optionOverrides(),
      seed,
    });
    const model = centerAt(raw, thresholdMargin(raw, calib, sliceFpr));
    const score = (n: LabelledName): Scored => ({
      score: sigmoid(margin(model, n.label)),
      entropy: shannonEntropy(n.name.toLowerCase()),
    });
    const benignScored = testBenign.map(score);
    perBenign.set(group, [...(perBenign.get(group) ?? []), ...benignScored]);
    heldOutScored.push(...heldOut.calibration.map(score), ...heldOut.test.map(score));
    if (showFp > 0) {
      const top = testBenign
        .map((b, i) => ({ b, s: benignScored[i]!.score }))
        .sort((x, y) => y.s - x.s)
        .slice(0, showFp);
      process.stderr.write(
        `fold ${fold + 1}, ${group}: highest-scoring benign labels\n${top.map((t) => `  ${t.s.toFixed(3)} ${t.b.label} (${t.b.name})`).join('\n')}\n`,
      );
    }
    const foldDga: Scored[] = [];
    for (const [family, names] of corpus.families) {
      if (byNames) {
        const scored = parts
          .get(family)!
          [fold]!.slice(0, Math.ceil(EVAL_CAP / FOLDS))
          .map(score);
        const entry = perFamily.get(family) ?? { fold: -1, scored: [] };
        entry.scored.push(...scored);
        perFamily.set(family, entry);
        foldDga.push(...scored);
        continue;
      }
      if (foldOf(family) !== fold) continue;
      const scored = shuffled(names, random).slice(0, EVAL_CAP).map(score);
      perFamily.set(family, { fold, scored });
      foldDga.push(...scored);
    }
    const s = (xs: Scored[]) => xs.map((x) => x.score);
    foldRows.push(
      `| ${fold + 1} | ${[...perFamily].filter(([, v]) => v.fold === fold).length} | ${foldDga.length} | ${group} (${benignScored.length}) | ${auc(s(foldDga), s(benignScored)).toFixed(4)} | ${pct(tprAtFpr(s(foldDga), s(benignScored), TARGET_FPR))} | ${pct(
        rate(s(benignScored), (x) => x >= 0.5),
        2,
      )} |`,
    );
  }

  const allDga = [...perFamily.values()].flatMap((v) => v.scored);
  const allBenign = [...perBenign.values()].flat();
  const sc = (xs: Scored[]) => xs.map((x) => x.score);
  const en = (xs: Scored[]) => xs.map((x) => x.entropy);
  const macro = (f: (xs: Scored[]) => number): number => {
    const v = [...perFamily.values()].map((x) => f(x.scored));
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  const out: string[] = [];
  out.push(
    `${byNames ? 'Split by names: every family in training, scored on its held-out names' : 'Split by family: scored families never trained on'}. ` +
      `Seed ${seed}; ${corpus.families.size} families (${allDga.length} names, at most ${EVAL_CAP} per family), ${allBenign.length} benign scores; ${familyFolds} folds.`,
  );
  out.push('');
  out.push('| | model (score >= 0.5) | entropy > 3.8 |');
  out.push('|---|---|---|');
  out.push(
    `| AUC, pooled | ${auc(sc(allDga), sc(allBenign)).toFixed(4)} | ${auc(en(allDga), en(allBenign)).toFixed(4)} |`,
  );
  out.push(
    `| TPR at FPR <= 0.3 %, pooled | ${pct(tprAtFpr(sc(allDga), sc(allBenign), TARGET_FPR))} | ${pct(tprAtFpr(en(allDga), en(allBenign), TARGET_FPR))} |`,
  );
  out.push(
    `| TPR at FPR <= 0.3 %, mean over families | ${pct(macro((xs) => tprAtFpr(sc(xs), sc(allBenign), TARGET_FPR)))} | ${pct(macro((xs) => tprAtFpr(en(xs), en(allBenign), TARGET_FPR)))} |`,
  );
  out.push(
    `| detected at the default threshold, pooled | ${pct(rate(sc(allDga), (x) => x >= 0.5))} | ${pct(rate(en(allDga), (x) => x > 3.8))} |`,
  );
  out.push(
    `| false positives at the default threshold | ${pct(
      rate(sc(allBenign), (x) => x >= 0.5),
      2,
    )} | ${pct(
      rate(en(allBenign), (x) => x > 3.8),
      2,
    )} |`,
  );
  out.push('');
  out.push(
    '| construction | families | names | AUC | TPR at FPR <= 0.3 % | detected at 0.5 | entropy > 3.8: TPR at FPR <= 0.3 % |',
  );
  out.push('|---|---|---|---|---|---|---|');
  const scoredByKind = new Map(
    CONSTRUCTIONS.map((kind) => {
      const fams = [...perFamily].filter(([f]) => constructionOf(f) === kind);
      return [kind, { families: fams.length, scored: fams.flatMap(([, v]) => v.scored) }];
    }),
  );
  for (const [kind, { families, scored: xs }] of scoredByKind) {
    if (xs.length === 0) continue;
    out.push(
      `| ${kind} | ${families} | ${xs.length} | ${auc(sc(xs), sc(allBenign)).toFixed(4)} | ${pct(tprAtFpr(sc(xs), sc(allBenign), TARGET_FPR))} | ${pct(rate(sc(xs), (x) => x >= 0.5))} | ${pct(tprAtFpr(en(xs), en(allBenign), TARGET_FPR))} |`,
    );
  }
  out.push('');
  out.push('TPR at FPR <= 0.3 % when the false-positive rate is counted on one benign source alone:');
  out.push('');
  out.push(`| benign source | all families | ${CONSTRUCTIONS.join(' | ')} |`);
  out.push('|---|---|---|---|---|---|');
  for (const [g, bs] of perBenign) {
    const cells = CONSTRUCTIONS.map((kind) =>
      pct(tprAtFpr(sc(scoredByKind.get(kind)!.scored), sc(bs), TARGET_FPR)),
    );
    out.push(`| ${g} | ${pct(tprAtFpr(sc(allDga), sc(bs), TARGET_FPR))} | ${cells.join(' | ')} |`);
  }
  out.push('');
  out.push(
    '| fold | families | DGA names | held-out benign source (labels) | AUC | TPR at FPR <= 0.3 % | FPR at 0.5 |',
  );
  out.push('|---|---|---|---|---|---|---|');
  out.push(...foldRows);
  out.push('');
  out.push('| benign source (never trained on) | labels | FPR, model | FPR, entropy > 3.8 |');
  out.push('|---|---|---|---|');
  for (const [g, xs] of perBenign) {
    out.push(
      `| ${g} | ${xs.length} | ${pct(
        rate(sc(xs), (x) => x >= 0.5),
        2,
      )} | ${pct(
        rate(en(xs), (x) => x > 3.8),
        2,
      )} |`,
    );
  }
  out.push(
    `| ${Object.keys(HELD_OUT_BENIGN_SOURCES).join('+')} (query volume: hold real DGA names, for reference), all ${familyFolds} folds | ${heldOut.calibration.length + heldOut.test.length} | ${pct(
      rate(sc(heldOutScored), (x) => x >= 0.5),
      2,
    )} | ${pct(
      rate(en(heldOutScored), (x) => x > 3.8),
      2,
    )} |`,
  );
  out.push('');
  out.push(
    `Calibration: score 0.5 placed at ${pct(sliceFpr, 2)} of each fold's calibration slice; query-volume lists: ${heldOut.calibration.length + heldOut.test.length} labels after dropping ${heldOut.inTraining} held by a training list and ${heldOut.inDgaLists} held by a DGA list.`,
  );
  out.push('');
  out.push(
    `| family (${byNames ? 'held-out names' : 'never trained on'}) | fold | names | detected, model | detected, entropy > 3.8 | AUC |`,
  );
  out.push('|---|---|---|---|---|---|');
  for (const [f, v] of [...perFamily].sort((a, b) => a[0].localeCompare(b[0]))) {
    out.push(
      `| ${f} | ${v.fold < 0 ? 'all' : v.fold + 1} | ${v.scored.length} | ${pct(rate(sc(v.scored), (x) => x >= 0.5))} | ${pct(rate(en(v.scored), (x) => x > 3.8))} | ${auc(sc(v.scored), sc(allBenign)).toFixed(4)} |`,
    );
  }
  out.push('');
  out.push(...hostLevel(perFamily, perBenign, seed));
  out.push('');
  out.push(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Distinct benign names a host resolves in the window of the host-level view. */
const HOST_BENIGN_NAMES = [50, 200, 1000];
const HOSTS = 20_000;
const INFECTED_HOSTS = 1000;

/**
 * Host-level view of the same held-out scores, through the network
 * analysis's own rule (`dgaHostMinimum`, src/detect/network/dga-host/minimum.ts): a
 * host is reported when the names it resolved in a window that score >= 0.5
 * reach the count that rule needs for that many names. A benign host resolves
 * B names drawn from one held-out benign source; an infected host resolves
 * the same plus k names of one held-out family. B and k are assumptions about
 * traffic, stated in the output, not measurements.
 */
function hostLevel(
  perFamily: ReadonlyMap<string, { scored: Scored[] }>,
  perBenign: ReadonlyMap<string, Scored[]>,
  seed: number,
): string[] {
  const random = seededRandom(seed ^ 0x2545f491);
  // `--name-fpr X` tries another per-name rate for the host rule (default: the shipped one).
  const nameFprAt = process.argv.indexOf('--name-fpr');
  const rule =
    nameFprAt >= 0
      ? { ...DEFAULT_DGA_HOST_RULE, nameFpr: Number(process.argv[nameFprAt + 1]) }
      : DEFAULT_DGA_HOST_RULE;
  const flagsOf = (xs: readonly Scored[]): Uint8Array => Uint8Array.from(xs, (x) => (x.score >= 0.5 ? 1 : 0));
  const benign = [...perBenign.values()].map(flagsOf);
  const families = [...perFamily].map(([f, v]) => ({
    kind: constructionOf(f),
    flags: flagsOf(v.scored),
    weight: v.scored.length,
  }));
  const draw = (flags: Uint8Array, n: number): number => {
    if (flags.length <= n) return flags.reduce((a, b) => a + b, 0);
    let c = 0;
    for (let i = 0; i < n; i++) c += flags[Math.floor(random() * flags.length)]!;
    return c;
  };
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const out: string[] = [];
  out.push(
    "Host level (same held-out scores, the network analysis's `deminer.network.dga_host` rule): a host is reported when its names scoring >= 0.5 " +
      `reach the count the rule needs for the number of names it resolved (binomial tail at ${pct(rule.nameFpr, 2)} per name, alpha ${rule.alpha}, at least ${rule.minimum}). ` +
      `A benign host resolves B names from one held-out benign source (${HOSTS} hosts); an infected host resolves the same plus k names ` +
      `of one family never trained on (${INFECTED_HOSTS} hosts per family; a family with fewer names gives all it has).`,
  );
  out.push('');
  out.push(
    `| B | count needed | benign hosts reported | k | infected hosts detected, pooled | mean over families | ${CONSTRUCTIONS.join(' | ')} |`,
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const B of HOST_BENIGN_NAMES) {
    const benignHost = (): number => draw(benign[Math.floor(random() * benign.length)]!, B);
    const needB = dgaHostMinimum(B, rule);
    const flagged = rate(Array.from({ length: HOSTS }, benignHost), (c) => c >= needB);
    for (const k of [10, 25, 50]) {
      const perFam = families.map((fam) => {
        const need = dgaHostMinimum(B + Math.min(k, fam.flags.length), rule);
        let d = 0;
        for (let h = 0; h < INFECTED_HOSTS; h++) if (benignHost() + draw(fam.flags, k) >= need) d++;
        return d / INFECTED_HOSTS;
      });
      const pooled =
        families.reduce((a, fam, i) => a + perFam[i]! * fam.weight, 0) /
        families.reduce((a, fam) => a + fam.weight, 0);
      const byKind = CONSTRUCTIONS.map((kind) =>
        pct(mean(perFam.filter((_, i) => families[i]!.kind === kind))),
      );
      out.push(
        `| ${B} | ${needB}–${dgaHostMinimum(B + k, rule)} | ${pct(flagged, 2)} | ${k} | ${pct(pooled)} | ${pct(mean(perFam))} | ${byKind.join(' | ')} |`,
      );
    }
  }
  out.push('');
  out.push('Per construction the host-level figures are means over the families of that construction.');
  return out;
}

main();
