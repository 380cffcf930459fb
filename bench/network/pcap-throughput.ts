// Packets per second of deminer's capture analysis beside tshark extracting
// the same facts, on one large capture built by concatenating the corpus's
// real Ethernet captures. Run: node --import tsx bench/network/pcap-throughput.ts [copies]
import { spawnSync } from 'node:child_process';
import { analyzeNetworkFile } from '../../src/pipeline/network-file.ts';
import { buildCorpusCapture, fmt, timeTshark } from './corpus-capture.ts';

const copies = Number(process.argv[2] ?? '40');
const capture = buildCorpusCapture(copies);
try {
  const big = capture.path;
  const packets = Number(
    spawnSync('capinfos', ['-c', '-M', '-T', '-r', big], { encoding: 'utf8' }).stdout.split('\t')[1],
  );
  console.log(
    `input: ${capture.sources} corpus captures × ${copies} = ${packets} packets, ${capture.mb.toFixed(0)} MB`,
  );

  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  let findings = 0;
  let seen = 0;
  for await (const x of analyzeNetworkFile(big, {
    onStats: (s) => {
      seen = s.packets;
    },
  }))
    if ('rule' in x) findings++;
  const ours = (performance.now() - t0) / 1000;
  // A second pass over the same file: the rate a long-running sensor sees once
  // the DGA model and the intel engine are loaded and the code is optimised.
  const t2 = performance.now();
  for await (const _ of analyzeNetworkFile(big)) {
    // Findings were counted in the first pass.
  }
  const warm = (performance.now() - t2) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  const theirs = timeTshark(big);
  console.log(
    `deminer  ${ours.toFixed(2)} s  ${fmt(seen / ours)} packets/s  (${findings} findings, peak RSS ${(peakRss / 1e6).toFixed(0)} MB)`,
  );
  console.log(`deminer, second pass (warm)  ${warm.toFixed(2)} s  ${fmt(seen / warm)} packets/s`);
  console.log(`tshark   ${theirs.toFixed(2)} s  ${fmt(packets / theirs)} packets/s`);
  console.log(`ratio    ${(theirs / ours).toFixed(1)}× tshark`);
} finally {
  capture.cleanup();
}
