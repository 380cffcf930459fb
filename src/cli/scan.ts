import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDuration } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { loadAllowlist } from '../detect/host/allowlist/parse.ts';
import { hostPoolIntel } from '../detect/host/pool-intel.ts';
import type { HostAnalyticContext } from '../detect/host/types.ts';
import { loadDefaultIntel } from '../intel/index.ts';
import { escapeControls, filterMinLevel, sinkFor } from '../outputs/index.ts';
import { scanHost } from '../pipeline/scan.ts';
import type { HashPolicy } from '../sources/procfs/collect.ts';
import type { RegisterCommand } from './command.ts';
import { parseChoice } from './command.ts';
import { loadDeminerConfig } from './config-file.ts';
import {
  addLevelOptions,
  addOutputOptions,
  exitCodeFor,
  keepLevels,
  type LevelCliOptions,
  type OutputCliOptions,
  parseLevels,
  withResultOut,
} from './output-options.ts';

const FORMATS = ['table', 'json', 'jsonl'] as const;

interface ScanOptions extends OutputCliOptions, LevelCliOptions {
  window?: string;
  root?: string;
  live?: boolean;
  allowlist?: string;
  hash?: string;
  intel?: boolean;
  config?: string;
}

/** Longest sampling window (`--window`). */
const MAX_WINDOW_MS = 3600_000;

/** `--root` must be a folder: a typo must not turn the review of a disk image into a scan of nothing. */
function checkRoot(root: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(root);
  } catch {
    throw new UsageError('SCAN_ROOT_MISSING', 'no such folder', { location: root });
  }
  if (!st.isDirectory()) throw new UsageError('SCAN_ROOT_NOT_FOLDER', 'not a folder', { location: root });
}

export const registerScan: RegisterCommand = (program: Command, run) => {
  const cmd = program
    .command('scan')
    .description(
      'One-shot scan of this Linux host for hidden miners (processes, sockets in every network namespace, persistence)',
    )
    .option(
      '-w, --window <duration>',
      'sampling window for CPU, connection rate and per-process behaviour (sampled at 1 Hz from 10s; 60s lets the behaviour model decide per minute), 0s for one snapshot, at most 1h (default: 10s)',
    )
    .option(
      '--root <dir>',
      "review the files of a mounted disk image or container root (persistence, package database) instead of this host's; no live process is looked at unless --live is given",
    )
    .option('--live', "with --root: also scan this machine's processes and sockets")
    .option(
      '--allowlist <file>',
      'application allow-list (ApplicationControl XML): report processes not on it',
    )
    .option('--hash <policy>', 'which executables to hash: none|suspicious|all (default: suspicious)')
    .option('--no-intel', 'do not check pools against threat intelligence')
    .option('-c, --config <file>', 'config file (default: ~/.deminer/config.yaml when present); flags win');
  addOutputOptions(cmd, FORMATS, 'table');
  addLevelOptions(cmd, undefined);
  cmd.action(
    run(async (opts: ScanOptions) => {
      const format = parseChoice(opts.format, FORMATS, '--format');
      const cfg = loadDeminerConfig(opts.config).scan;
      const windowMs =
        opts.window !== undefined
          ? parseDuration(opts.window, '--window', { max: MAX_WINDOW_MS })
          : Math.min(cfg.window ?? 10_000, MAX_WINDOW_MS);
      const levels = parseLevels(opts, cfg.min_level ?? 'low');
      let hash = parseChoice(
        opts.hash ?? cfg.hash ?? 'suspicious',
        ['none', 'suspicious', 'all'] as const,
        '--hash',
      ) as HashPolicy;
      const root = opts.root ?? cfg.root ?? '/';
      if (opts.live && root === '/') throw new UsageError('BAD_OPTION', '--live goes with --root');
      checkRoot(root);
      // The live host is scanned without --root; with it, only when --live says so.
      const live = root === '/' || opts.live === true;
      const allowFile = opts.allowlist ?? cfg.allowlist;
      const ctx: HostAnalyticContext = {};
      if (allowFile) {
        ctx.allowlist = loadAllowlist(allowFile);
        // Hash entries can only match processes whose executables were hashed.
        if (ctx.allowlist.some((e) => e.hash)) hash = 'all';
      }
      ctx.poolIntel = hostPoolIntel(
        opts.intel !== false && cfg.intel !== false ? loadDefaultIntel() : undefined,
      );
      if (process.platform !== 'linux')
        throw new UsageError('SCAN_NOT_LINUX', 'deminer scan reads /proc and runs on Linux only');
      if (format === 'table' && process.stderr.isTTY && windowMs > 0 && live && !opts.quiet) {
        process.stderr.write(`Sampling for ${Math.round(windowMs / 1000)} s…\n`);
      }
      const scan = await scanHost({ windowMs, fsRoot: root, live, hash, context: ctx });
      const snapshot = scan.snapshot;
      const findings = keepLevels(filterMinLevel(scan.findings, levels.min), levels.only);
      const stats = {
        ...snapshot.stats,
        analyzeMs: scan.analyzeMs,
        windowMs: snapshot.windowMs,
        totalMs: scan.totalMs,
        findings: findings.length,
      };
      return withResultOut(opts, async (out) => {
        const sink = sinkFor(format, { out, color: out.color, width: out.width });
        sink.end({ findings, issues: [], stats, extra: { host: snapshot.host } });
        // Machine formats print nothing but the results (the summary is for a person reading a table).
        if (opts.summary !== false && !sink.machine) {
          const notes = out.notes(sink.machine);
          const what = live
            ? `${stats.processes} processes (${stats.kernelThreads} kernel threads), ${stats.sockets} sockets in ${stats.netns} network namespace(s), `
            : `files under ${escapeControls(root)} only (no live process: add --live), `;
          notes.write(
            `${notes === out ? '\n' : ''}${escapeControls(snapshot.host.name)}: ${what}${stats.files} persistence/config files; ${stats.vanished} exited mid-scan, ${stats.unreadable} partly unreadable. Collection ${stats.collectMs} ms + ${Math.round(windowMs / 1000)} s window.\n`,
          );
        }
        return exitCodeFor(findings.length, 0);
      });
    }),
  );
};
