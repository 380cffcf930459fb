import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { parseDuration } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import { compareFindings } from '../core/finding.ts';
import { HostNames } from '../core/host-identity.ts';
import { atLeast, type Severity } from '../core/severity.ts';
import { networkLists } from '../detect/network/lists.ts';
import { NetworkDetector } from '../detect/network/network-detector.ts';
import { PoolCheck } from '../detect/pool-match/pool-check.ts';
import type { IntelEngine } from '../intel/index.ts';
import { loadDefaultIntel } from '../intel/index.ts';
import type { FindingSink } from '../outputs/index.ts';
import {
  escapeControls,
  FINDING_FORMATS,
  ProblemPrinter,
  renderSummary,
  sinkFor,
  summarizeByRule,
} from '../outputs/index.ts';
import { hunt } from '../pipeline/hunt.ts';
import { runStream } from '../pipeline/stream.ts';
import { loadAssetMap } from '../sources/asset-map/index.ts';
import { captureItems } from '../sources/pcap/source.ts';
import { NETWORK_SOURCES } from '../sources/registry.ts';
import { parseChoice, type RegisterCommand, type RunAction } from './command.ts';
import {
  addLevelOptions,
  addOutputOptions,
  exitCodeFor,
  keepLevels,
  type LevelCliOptions,
  type OutputCliOptions,
  parseLevels,
  type ResultOut,
  strictStop,
  withResultOut,
} from './output-options.ts';
import {
  addSendOptions,
  checkSendOptions,
  learnedPoolsIfAsked,
  type SendCliOptions,
  sendIfAsked,
} from './send-options.ts';

interface SniffOptions extends OutputCliOptions, LevelCliOptions, SendCliOptions {
  interface?: string;
  read?: string;
  count?: string;
  duration?: string;
  filter?: string;
  intel: boolean;
  assets?: string;
}

/** Longest `--duration` of a live capture. */
const MAX_DURATION_MS = 7 * 24 * 3600_000;

/**
 * `deminer sniff -i IFACE`: live capture through a `tcpdump -w -` pipe into
 * the long-running pipeline; `-r FILE` for a saved capture, Zeek log or
 * eve.json through the one-shot pipeline. jsonl prints live findings as they
 * appear; the other formats at the end.
 */
async function sniff(opts: SniffOptions): Promise<number> {
  const format = parseChoice(opts.format, FINDING_FORMATS, '--format');
  const levels = parseLevels(opts);
  checkSendOptions(opts);
  if (!opts.interface === !opts.read)
    throw new UsageError('BAD_OPTION', 'give exactly one of -i IFACE or -r FILE');
  const hostNames = opts.assets ? loadAssetMap(opts.assets) : new HostNames();
  const intel = opts.intel ? loadDefaultIntel() : undefined;
  return withResultOut(opts, async (out) => {
    const sink = sinkFor(format, { out, color: out.color, width: out.width });
    if (!opts.read) return live(opts, out, sink, levels, intel, hostNames);
    const strict = strictStop(opts.strict);
    const learnedPools = await learnedPoolsIfAsked(opts);
    const result = await hunt({
      paths: [opts.read],
      sources: NETWORK_SOURCES,
      intel,
      learnedPools,
      hostNames,
      minLevel: levels.min,
      ...strict.options,
    });
    const problems = new ProblemPrinter(process.stderr);
    for (const i of result.issues) problems.add(i);
    problems.end();
    strict.check();
    if (result.stats.files === 0)
      throw new UsageError('SNIFF_NO_INPUT', 'not a readable capture, Zeek log or Suricata eve.json', {
        location: opts.read,
      });
    const findings = keepLevels(result.findings, levels.only);
    await sendIfAsked(opts, findings);
    sink.end({ findings, issues: result.issues, stats: result.stats });
    if (opts.summary !== false) {
      const notes = out.notes(sink.machine);
      notes.write(
        `${notes === out ? '\n' : ''}${renderSummary(summarizeByRule(findings), result.stats, findings.length)}`,
      );
    }
    return exitCodeFor(findings.length, result.stats.issues);
  });
}

async function live(
  opts: SniffOptions,
  out: ResultOut,
  sink: FindingSink,
  levels: { min: Severity; only?: Set<Severity> },
  intel: IntelEngine | undefined,
  hostNames: HostNames,
): Promise<number> {
  const iface = opts.interface!;
  const args = ['-i', iface, '-U', '-w', '-', '-s', '0', '-n'];
  if (opts.count !== undefined) {
    const n = Number(opts.count);
    if (!Number.isInteger(n) || n <= 0 || n > 1e12)
      throw new UsageError('BAD_OPTION', '--count must be a whole number of packets from 1 to 10^12');
    args.push('-c', String(n));
  }
  if (opts.filter) args.push(...opts.filter.split(/\s+/).filter(Boolean));
  const durationMs = opts.duration
    ? parseDuration(opts.duration, '--duration', { max: MAX_DURATION_MS })
    : undefined;
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
  const err = await new Promise<Error | undefined>((resolve) => {
    child.once('error', (e) => resolve(e));
    child.once('spawn', () => resolve(undefined));
  });
  if (err)
    throw new UsageError(
      'SNIFF_NO_TCPDUMP',
      `cannot run tcpdump (${err.message}); install it (apt-get install tcpdump)`,
      {
        location: iface,
      },
    );
  const stop = (): void => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  const timer = durationMs !== undefined ? setTimeout(stop, durationMs) : undefined;
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lists = networkLists();
  const pools = new PoolCheck({ intel, builtinPools: lists.poolDomains });
  const learned = await learnedPoolsIfAsked(opts);
  if (learned) pools.seedLearned(learned);
  const detector = new NetworkDetector({ lists, intel, hostNames, pools });
  const findings: Finding[] = [];
  const problems = new ProblemPrinter(process.stderr);
  let summary: Awaited<ReturnType<typeof runStream>>;
  try {
    summary = await runStream(captureItems(child.stdout, `${iface} (live)`), {
      network: detector,
      onFinding: (f) => {
        if (!atLeast(f.severity, levels.min) || (levels.only && !levels.only.has(f.severity))) return;
        findings.push(f);
        sink.write(f);
      },
      onIssue: (i) => {
        problems.add(i);
        if (opts.strict) stop();
      },
    });
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stop();
  }
  const code = await exited;
  problems.end();
  const packets = summary.sources['packets'] ?? 0;
  if (packets === 0 && code !== 0 && code !== null && stderr) {
    throw new UsageError('SNIFF_CAPTURE_FAILED', stderr.trim().split('\n').slice(-1)[0] ?? 'tcpdump failed', {
      location: iface,
    });
  }
  findings.sort(compareFindings);
  await sendIfAsked(opts, findings);
  sink.end({ findings, issues: [], stats: { ...summary, issues: problems.count } });
  if (opts.summary !== false)
    out
      .notes(sink.machine)
      .write(
        `deminer: ${escapeControls(iface)}: ${packets} packets analysed, ${findings.length} finding(s)${problems.count ? `, ${problems.count} problem(s)` : ''}\n`,
      );
  return exitCodeFor(findings.length, problems.count);
}

export const registerSniff: RegisterCommand = (program: Command, run: RunAction) => {
  const cmd = program
    .command('sniff')
    .description(
      'Watch network traffic for mining: stratum on any port, pool ports and names, DGA-like DNS/TLS names, connection bursts (live with -i via tcpdump, or a saved pcap/pcapng/Zeek/eve.json with -r)',
    )
    .option('-i, --interface <iface>', 'capture live on this interface (needs tcpdump and root)')
    .option('-r, --read <file>', 'analyse a saved capture, Zeek log or Suricata eve.json instead')
    .option('--count <n>', 'stop after this many packets (live)')
    .option('-d, --duration <time>', 'stop after this long, e.g. 30s, 5m, at most 7d (live)')
    .option('--filter <bpf>', 'capture filter handed to tcpdump, e.g. "tcp or udp port 53"')
    .option('--assets <file>', 'asset map ("address,name" per line): names the hosts behind addresses')
    .option('--no-intel', 'check pools against the built-in list only, not threat intelligence');
  addOutputOptions(cmd, FINDING_FORMATS, 'table');
  addLevelOptions(cmd);
  addSendOptions(cmd);
  cmd.action(run(async (opts: SniffOptions) => sniff(opts)));
};
