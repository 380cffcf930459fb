// Shared by the network benchmarks: one large capture built from the corpus's
// real Ethernet captures, and tshark extracting the same facts from it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pcapDir = join(here, '..', '..', '..', 'shared', 'corpora', 'pcap');

export interface BenchCapture {
  path: string;
  sources: number;
  mb: number;
  cleanup(): void;
}

/** The corpus's Ethernet captures merged (`mergecap -a`), then `copies` of that merged end to end. */
export function buildCorpusCapture(copies: number): BenchCapture {
  if (!existsSync(pcapDir)) {
    console.error(`corpus not found at ${pcapDir}`);
    process.exit(2);
  }
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
  const one = join(work, 'one.pcap');
  spawnSync('mergecap', ['-a', '-F', 'pcap', '-w', one, ...sources]);
  const big = join(work, 'big.pcap');
  spawnSync('mergecap', ['-a', '-F', 'pcap', '-w', big, ...new Array<string>(copies).fill(one)]);
  return {
    path: big,
    sources: sources.length,
    mb: statSync(big).size / 1e6,
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}

/** Seconds tshark takes to print source address, DNS query names and TLS SNI of every packet. */
export function timeTshark(file: string): number {
  const t = performance.now();
  const ts = spawnSync(
    'tshark',
    [
      '-r',
      file,
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
  if (ts.status !== 0) console.log(`tshark exited with ${ts.status}`);
  return (performance.now() - t) / 1000;
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
