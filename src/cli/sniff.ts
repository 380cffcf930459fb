import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { parseDuration } from '../core/config.ts';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { atLeast, isSeverity, type Severity } from '../core/severity.ts';
import type { IntelEngine } from '../detect/intel/index.ts';
import { loadDefaultIntel } from '../detect/intel/index.ts';
import { analyzeCaptureStream, analyzeNetworkFile, NetworkDetector } from '../detect/network/index.ts';
import { networkLists } from '../detect/network/lists.ts';
import { parseChoice, type RegisterCommand, type RunAction } from './command.ts';
import { exitCodeFor, FINDING_FORMATS, renderCsv, renderTable } from './findings-output.ts';

interface SniffOptions {
  interface?: string;
  read?: string;
  count?: string;
  duration?: string;
  filter?: string;
  format: string;
  minLevel: string;
  intel: boolean;
}

/**
 * `deminer sniff -i IFACE`: live capture through a `tcpdump -w -` pipe into
 * our own pcap reader, or `-r FILE` for a saved capture, Zeek log or eve.json.
 * jsonl prints findings as they appear; the other formats at the end.
 */
async function sniff(opts: SniffOptions): Promise<number> {
  const format = parseChoice(opts.format, FINDING_FORMATS, '--format');
  if (!isSeverity(opts.minLevel))
    throw new UsageError('BAD_OPTION', `--min-level must be low, medium, high or critical`);
  const minLevel: Severity = opts.minLevel;
  if (!opts.interface === !opts.read)
    throw new UsageError('BAD_OPTION', 'give exactly one of -i IFACE or -r FILE');
  const findings: Finding[] = [];
  let issues = 0;
  const take = (x: Finding | ParseIssue): void => {
    if ('rule' in x) {
      if (!atLeast(x.severity, minLevel)) return;
      findings.push(x);
      if (format === 'jsonl') process.stdout.write(`${JSON.stringify(x)}\n`);
    } else {
      issues++;
      process.stderr.write(`deminer: ${x.code}: ${x.location}: ${x.message}\n`);
    }
  };
  const intel = opts.intel ? loadDefaultIntel() : undefined;
  if (opts.read) {
    for await (const x of analyzeNetworkFile(opts.read, { intel })) take(x);
  } else {
    await live(opts, take, intel);
  }
  if (format === 'table')
    process.stdout.write(renderTable(findings, { color: process.stdout.isTTY === true }));
  else if (format === 'json')
    process.stdout.write(`${JSON.stringify({ findings, stats: { issues } }, null, 2)}\n`);
  else if (format === 'csv') process.stdout.write(renderCsv(findings));
  return exitCodeFor(findings, minLevel);
}

async function live(
  opts: SniffOptions,
  take: (x: Finding | ParseIssue) => void,
  intel: IntelEngine | undefined,
): Promise<void> {
  const iface = opts.interface!;
  const args = ['-i', iface, '-U', '-w', '-', '-s', '0', '-n'];
  if (opts.count !== undefined) {
    const n = Number(opts.count);
    if (!Number.isInteger(n) || n <= 0)
      throw new UsageError('BAD_OPTION', '--count must be a positive integer');
    args.push('-c', String(n));
  }
  if (opts.filter) args.push(...opts.filter.split(/\s+/).filter(Boolean));
  const durationMs = opts.duration ? parseDuration(opts.duration, '--duration') : undefined;
  const child = spawn('tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  let announced = false;
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
    // tcpdump says "listening on …" once the interface is open: tell the user (and scripts) we are live.
    if (!announced && stderr.includes('listening on')) {
      announced = true;
      process.stderr.write(`deminer: capturing on ${iface}\n`);
    }
  });
  const spawnError = new Promise<Error | undefined>((resolve) => {
    child.once('error', (e) => resolve(e));
    child.once('spawn', () => resolve(undefined));
  });
  const err = await spawnError;
  if (err) {
    throw new UsageError(
      'SNIFF_NO_TCPDUMP',
      `cannot run tcpdump (${err.message}); install it (apt-get install tcpdump)`,
      {
        location: iface,
      },
    );
  }
  const stop = (): void => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  const timer = durationMs !== undefined ? setTimeout(stop, durationMs) : undefined;
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lists = networkLists();
  const detector = new NetworkDetector({ lists, intel });
  let packets = 0;
  try {
    for await (const x of analyzeCaptureStream(
      child.stdout,
      `${iface} (live)`,
      detector,
      lists,
      undefined,
      (s) => {
        packets = s.packets;
      },
      1000,
    ))
      take(x);
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stop();
  }
  const code = await exited;
  for (const f of detector.finalize()) take(f);
  if (packets === 0 && code !== 0 && code !== null && stderr) {
    throw new UsageError('SNIFF_CAPTURE_FAILED', stderr.trim().split('\n').slice(-1)[0] ?? 'tcpdump failed', {
      location: iface,
    });
  }
  process.stderr.write(`deminer: ${iface}: ${packets} packets analysed\n`);
}

export const registerSniff: RegisterCommand = (program: Command, run: RunAction) => {
  program
    .command('sniff')
    .description(
      'Watch network traffic for mining: stratum on any port, pool ports and names, DGA-like DNS/TLS names, connection bursts (live with -i via tcpdump, or a saved pcap/pcapng/Zeek/eve.json with -r)',
    )
    .option('-i, --interface <iface>', 'capture live on this interface (needs tcpdump and root)')
    .option('-r, --read <file>', 'analyse a saved capture, Zeek log or Suricata eve.json instead')
    .option('-c, --count <n>', 'stop after this many packets (live)')
    .option('-d, --duration <time>', 'stop after this long, e.g. 30s, 5m (live)')
    .option('--filter <bpf>', 'capture filter handed to tcpdump, e.g. "tcp or udp port 53"')
    .option('-f, --format <format>', `output format: ${FINDING_FORMATS.join('|')}`, 'table')
    .option('-l, --min-level <level>', 'lowest severity that is reported and sets exit code 1', 'low')
    .option('--no-intel', 'check pools against the built-in list only, not threat intelligence')
    .action(run(async (opts: SniffOptions) => sniff(opts)));
};
