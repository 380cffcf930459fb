// Packets per second of deminer's capture analysis beside tshark extracting
// the same facts, on one large capture built by concatenating the corpus's
// real Ethernet captures. Run: node --import tsx bench/network/pcap-throughput.ts [copies]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeNetworkFile } from '../../src/detect/network/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const pcapDir = join(here, '..', '..', '..', 'shared', 'corpora', 'pcap');
if (!existsSync(pcapDir)) {
  console.error(`corpus not found at ${pcapDir}`);
  process.exit(2);
}
const copies = Number(process.argv[2] ?? '40');
const sources: string[] = [];
for (const d of ['nDPI', 'nesfit-stratum', 'slips', join('slips', 'test-cc'), 'sbousseaden']) {
  for (const f of readdirSync(join(pcapDir, d))) {
    const p = join(pcapDir, d, f);
    if (!/\.pcap(ng)?$/.test(f)) continue;
    const enc = spawnSync('capinfos', ['-E', '-T', '-r', p], { encoding: 'utf8' }).stdout;
    if (/\tether\s*$/m.test(enc)) sources.push(p);
  }
}
const work = mkdtempSync(join(tmpdir(), 'deminer-bench-'));
try {
  const one = join(work, 'one.pcap');
  spawnSync('mergecap', ['-a', '-F', 'pcap', '-w', one, ...sources]);
  const big = join(work, 'big.pcap');
  spawnSync('mergecap', ['-a', '-F', 'pcap', '-w', big, ...new Array<string>(copies).fill(one)]);
  const packets = Number(
    spawnSync('capinfos', ['-c', '-M', '-T', '-r', big], { encoding: 'utf8' }).stdout.split('\t')[1],
  );
  const mb = statSync(big).size / 1e6;
  console.log(
    `input: ${sources.length} corpus captures × ${copies} = ${packets} packets, ${mb.toFixed(0)} MB`,
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

  const t1 = performance.now();
  const ts = spawnSync(
    'tshark',
    [
      '-r',
      big,
      '-T',
      'fields',
      '-e',
      'ip.src',
      '-e',
      'dns.qry.name',
      '-e',
      'tls.handshake.extensions_server_name',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const theirs = (performance.now() - t1) / 1000;
  if (ts.status !== 0) console.log(`tshark exited with ${ts.status}`);

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `deminer  ${ours.toFixed(2)} s  ${fmt(seen / ours)} packets/s  (${findings} findings, peak RSS ${(peakRss / 1e6).toFixed(0)} MB)`,
  );
  console.log(`deminer, second pass (warm)  ${warm.toFixed(2)} s  ${fmt(seen / warm)} packets/s`);
  console.log(`tshark   ${theirs.toFixed(2)} s  ${fmt(packets / theirs)} packets/s`);
  console.log(`ratio    ${(theirs / ours).toFixed(1)}× tshark`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
