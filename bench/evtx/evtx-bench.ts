/**
 * EVTX parsing speed, side by side in one run on the same input:
 * deminer (in-process, and the `evtx dump` CLI end to end), libevtx's
 * `evtxexport -f xml` (C) and python-evtx's `evtx_dump.py`.
 *
 * The input is one EVTX file built from every chunk of the corpus files
 * (../shared/corpora/evtx; the test fixtures when it is absent), so each tool
 * pays its start-up once. A second file with the same chunks repeated 4x
 * shows whether memory stays flat as files grow.
 *
 *   npx tsx bench/evtx/evtx-bench.ts [--max-chunks N] [--no-python]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { evtxFilesUnder } from '../../src/sources/evtx/fixture-files.ts';
import { readEvtxFile, renderXml } from '../../src/sources/evtx/index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = join(ROOT, '../shared/corpora/evtx');
const FIXTURES = join(ROOT, 'test/fixtures/evtx');
const HEADER = 4096;
const CHUNK = 65536;

const args = process.argv.slice(2);
const maxChunks = args.includes('--max-chunks') ? Number(args[args.indexOf('--max-chunks') + 1]) : Infinity;
const withPython = !args.includes('--no-python');

/** Every used chunk of every input file, behind one consistent file header. */
function buildInput(files: string[], repeat: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let header: Uint8Array | undefined;
  for (const f of files) {
    const b = new Uint8Array(readFileSync(f));
    header ??= b.slice(0, HEADER);
    for (let off = HEADER; off + CHUNK <= b.length && chunks.length < maxChunks; off += CHUNK) {
      const c = b.subarray(off, off + CHUNK);
      if (new TextDecoder().decode(c.subarray(0, 7)) === 'ElfChnk') chunks.push(c);
    }
  }
  if (!header) throw new Error('no input files');
  const n = chunks.length * repeat;
  const out = new Uint8Array(HEADER + n * CHUNK);
  out.set(header, 0);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(8, 0n, true);
  dv.setBigUint64(16, BigInt(n - 1), true);
  dv.setBigUint64(24, 1n << 40n, true);
  dv.setUint16(42, n, true);
  dv.setUint32(120, 0, true);
  dv.setUint32(124, crc32(out.subarray(0, 120)), true);
  for (let r = 0; r < repeat; r++)
    for (const [i, c] of chunks.entries()) out.set(c, HEADER + (r * chunks.length + i) * CHUNK);
  return out;
}

interface Run {
  seconds: number;
  maxRssMb: number;
}

/**
 * CPU time (user + system) and peak RSS of a command, its output discarded.
 * CPU time, not wall time: the machines these run on are shared, and every tool here is single-threaded.
 */
function timed(cmd: string, argv: string[]): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', cmd, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const last = r.stderr.toString().trim().split('\n').pop() ?? '';
  const [user, sys, kb] = last.split(' ').map(Number);
  if (r.status !== 0 && r.status !== 2) throw new Error(`${cmd} failed: ${r.stderr.toString().slice(-500)}`);
  return { seconds: user! + sys!, maxRssMb: kb! / 1024 };
}

async function inProcess(path: string, xml: boolean): Promise<{ seconds: number; records: number }> {
  const t0 = process.cpuUsage();
  let records = 0;
  let sink = 0;
  for await (const item of readEvtxFile(path)) {
    if (item.kind !== 'record') continue;
    records++;
    sink += xml ? renderXml(item.record).length : JSON.stringify(item.record.event).length;
  }
  if (sink === 0) throw new Error('nothing rendered');
  const used = process.cpuUsage(t0);
  return { seconds: (used.user + used.system) / 1e6, records };
}

async function best(
  path: string,
  xml: boolean,
  times: number,
): Promise<{ seconds: number; records: number }> {
  let b = await inProcess(path, xml);
  for (let i = 1; i < times; i++) {
    const r = await inProcess(path, xml);
    if (r.seconds < b.seconds) b = r;
  }
  return b;
}

const files = existsSync(CORPUS) ? evtxFilesUnder(CORPUS) : evtxFilesUnder(FIXTURES);
const dir = mkdtempSync(join(tmpdir(), 'deminer-evtx-bench-'));
try {
  const input = join(dir, 'combined.evtx');
  writeFileSync(input, buildInput(files, 1));
  const big = join(dir, 'combined-x4.evtx');
  writeFileSync(big, buildInput(files, 4));
  const mb = statSync(input).size / 1e6;

  await best(input, false, 1); // warm-up: JIT
  const json = await best(input, false, 3);
  const xml = await best(input, true, 3);
  const records = json.records;
  const cli = join(ROOT, 'bin/deminer.js');
  const startup = timed(process.execPath, [cli, '--version']);
  const cliJsonl = timed(process.execPath, [cli, 'evtx', 'dump', '--format', 'jsonl', input]);
  const cliXml = timed(process.execPath, [cli, 'evtx', 'dump', '--format', 'xml', input]);
  const cliBig = timed(process.execPath, [cli, 'evtx', 'dump', '--format', 'jsonl', big]);
  const evtxexport = timed('evtxexport', ['-f', 'xml', input]);
  const python = withPython ? timed('/usr/bin/python3', ['/usr/bin/evtx_dump.py', input]) : undefined;

  const rows: [string, number, number | undefined][] = [
    ['deminer in-process, JSON events', json.seconds, undefined],
    ['deminer in-process, XML', xml.seconds, undefined],
    ['deminer --version (CLI start-up alone)', startup.seconds, startup.maxRssMb],
    ['deminer evtx dump --format jsonl (CLI)', cliJsonl.seconds, cliJsonl.maxRssMb],
    ['deminer evtx dump --format xml (CLI)', cliXml.seconds, cliXml.maxRssMb],
    ['evtxexport -f xml (libevtx, C)', evtxexport.seconds, evtxexport.maxRssMb],
  ];
  if (python) rows.push(['evtx_dump.py (python-evtx)', python.seconds, python.maxRssMb]);
  console.log(`input: ${files.length} files -> ${(mb).toFixed(1)} MB, ${records} records, one core`);
  console.log('tool | CPU seconds | records/s | MB/s | peak RSS MB');
  for (const [name, s, rss] of rows)
    console.log(
      `${name} | ${s.toFixed(2)} | ${Math.round(records / s)} | ${(mb / s).toFixed(1)} | ${rss === undefined ? '-' : rss.toFixed(0)}`,
    );
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  console.log(`CLI xml vs evtxexport -f xml: ${ratio(evtxexport.seconds, cliXml.seconds)} as fast`);
  console.log(`in-process xml vs evtxexport -f xml: ${ratio(evtxexport.seconds, xml.seconds)} as fast`);
  if (python) {
    console.log(`CLI xml vs evtx_dump.py: ${ratio(python.seconds, cliXml.seconds)} as fast`);
    console.log(`in-process xml vs evtx_dump.py: ${ratio(python.seconds, xml.seconds)} as fast`);
  }
  console.log(
    `memory: jsonl dump of ${mb.toFixed(0)} MB peaks at ${cliJsonl.maxRssMb.toFixed(0)} MB RSS, of ${(4 * mb).toFixed(0)} MB at ${cliBig.maxRssMb.toFixed(0)} MB`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
