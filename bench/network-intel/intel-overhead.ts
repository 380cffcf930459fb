import { dirname, join } from 'node:path';
import { getDomainWithoutSuffix } from 'tldts';
import type { IntelEngine } from '../../src/intel/index.ts';
import { buildIntel } from '../../src/intel/index.ts';
import { shannonEntropy } from '../../src/ml/dga/entropy.ts';
import { analyzeNetworkFile } from '../../src/pipeline/network-file.ts';
import { buildCorpusCapture, fmt, timeTshark } from '../network/corpus-capture.ts';

const copies = Number(process.argv[2] ?? '20');
const runs = Number(process.argv[3] ?? '5');

/**
 * The cheap name measure the detector used before the DGA classifier:
 * entropy of the registrable label, scaled so that the 3.8-bit baseline lands
 * near 0.85, with a bonus for digits mixed into letters; short labels score 0.
 */
function entropyRandomness(name: string): number {
  const n = name.toLowerCase().replace(/\.$/, '');
  const label = getDomainWithoutSuffix(n, { allowPrivateDomains: false }) ?? n.split('.')[0] ?? n;
  if (label.length < 8) return 0;
  let digits = 0;
  for (const c of label) if (c >= '0' && c <= '9') digits++;
  const share = digits / label.length;
  const score = shannonEntropy(label) / 4.5 + (share > 0.15 && share < 0.85 ? 0.1 : 0);
  return Math.min(1, Math.max(0, score));
}

async function analyse(file: string, intel: IntelEngine | undefined) {
  const t0 = performance.now();
  let packets = 0;
  const rules = new Map<string, number>();
  for await (const x of analyzeNetworkFile(file, {
    intel,
    // Names are scored by the cheap entropy measure in both runs, so that the
    // difference is the pool check alone, whatever state the DGA model is in.
    detector: { scoreName: entropyRandomness },
    onStats: (s) => {
      packets = s.packets;
    },
  }))
    if ('rule' in x) rules.set(x.rule.id, (rules.get(x.rule.id) ?? 0) + 1);
  return { s: (performance.now() - t0) / 1000, packets, rules };
}

const capture = buildCorpusCapture(copies);
const work = dirname(capture.path);
try {
  const big = capture.path;
  const mb = capture.mb;
  const tLoad = performance.now();
  const intel = buildIntel({ stateDir: join(work, 'intel') });
  const loadMs = performance.now() - tLoad;
  console.log(`input: ${capture.sources} corpus captures × ${copies}, ${mb.toFixed(0)} MB`);
  console.log(
    `intel: shipped feed, ${intel.stats().indicators} indicators, built in ${loadMs.toFixed(0)} ms`,
  );

  // Alternate, best of `runs` each: the machine is shared, so single runs swing.
  const off: number[] = [];
  const on: number[] = [];
  let last = { packets: 0, rules: new Map<string, number>() };
  let lastOff = last;
  for (let i = 0; i < runs; i++) {
    const a = await analyse(big, undefined);
    off.push(a.s);
    lastOff = a;
    const b = await analyse(big, intel);
    on.push(b.s);
    last = b;
  }
  const theirs = timeTshark(big);
  const bestOff = Math.min(...off);
  const bestOn = Math.min(...on);
  const p = last.packets;
  console.log(
    `no intel  ${bestOff.toFixed(2)} s  ${fmt(p / bestOff)} packets/s  (runs ${off.map((s) => s.toFixed(2)).join(', ')} s)`,
  );
  console.log(
    `intel     ${bestOn.toFixed(2)} s  ${fmt(p / bestOn)} packets/s  (runs ${on.map((s) => s.toFixed(2)).join(', ')} s)`,
  );
  console.log(`tshark    ${theirs.toFixed(2)} s  ${fmt(p / theirs)} packets/s`);
  console.log(
    `intel costs ${(((bestOn - bestOff) / bestOff) * 100).toFixed(1)} % over no intel; with intel ${(theirs / bestOn).toFixed(1)}× tshark`,
  );
  const diff = [...new Set([...last.rules.keys(), ...lastOff.rules.keys()])]
    .sort()
    .map((r) => `${r} ${lastOff.rules.get(r) ?? 0}→${last.rules.get(r) ?? 0}`);
  console.log(`findings by rule (no intel→intel): ${diff.join(', ')}`);
} finally {
  capture.cleanup();
}
