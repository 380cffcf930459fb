import type { Command } from 'commander';
import { parseDuration } from '../core/config.ts';
import { UsageError } from '../core/errors.ts';
import { compareFindings } from '../core/finding.ts';
import { atLeast, isSeverity, type Severity } from '../core/severity.ts';
import { loadAllowlist } from '../detect/analytics/allowlist/parse.ts';
import { poolIntelFrom } from '../detect/analytics/pool-intel.ts';
import { analyzeHost } from '../detect/analytics/registry.ts';
import type { HostAnalyticContext } from '../detect/analytics/types.ts';
import { loadDefaultIntel } from '../detect/intel/index.ts';
import { collectHostSnapshot, type HashPolicy } from '../sources/procfs/collect.ts';
import type { RegisterCommand } from './command.ts';
import { parseChoice } from './command.ts';
import { exitCodeFor, renderJsonl, renderTable } from './findings-output.ts';

const FORMATS = ['table', 'json', 'jsonl'] as const;

interface ScanOptions {
  format: string;
  window: string;
  minLevel: string;
  root: string;
  allowlist?: string;
  hash: string;
  intel: boolean;
}

export const registerScan: RegisterCommand = (program: Command, run) => {
  program
    .command('scan')
    .description(
      'One-shot scan of this Linux host for hidden miners (processes, sockets in every network namespace, persistence)',
    )
    .option('-f, --format <format>', `output format: ${FORMATS.join('|')}`, 'table')
    .option(
      '-w, --window <duration>',
      'sampling window for CPU and connection rate (0s: a single snapshot)',
      '10s',
    )
    .option('-l, --min-level <level>', 'lowest severity that is reported and sets exit code 1', 'low')
    .option('--root <dir>', 'file-system root whose persistence files and package database are read', '/')
    .option(
      '--allowlist <file>',
      'application allow-list (ApplicationControl XML): report processes not on it (audit mode)',
    )
    .option('--hash <policy>', 'which executables to hash: none|suspicious|all', 'suspicious')
    .option(
      '--no-intel',
      'do not check pools against threat intelligence (shipped pool feed + `deminer intel update`)',
    )
    .action(
      run(async (opts: ScanOptions) => {
        const format = parseChoice(opts.format, FORMATS, '--format');
        const windowMs = parseDuration(opts.window, '--window');
        if (!isSeverity(opts.minLevel))
          throw new UsageError(
            'BAD_OPTION',
            `--min-level must be low|medium|high|critical (got "${opts.minLevel}")`,
          );
        const minLevel: Severity = opts.minLevel;
        let hash = parseChoice(opts.hash, ['none', 'suspicious', 'all'] as const, '--hash') as HashPolicy;
        const ctx: HostAnalyticContext = {};
        if (opts.allowlist) {
          ctx.allowlist = loadAllowlist(opts.allowlist);
          // Hash entries can only match processes whose executables were hashed.
          if (ctx.allowlist.some((e) => e.hash)) hash = 'all';
        }
        if (opts.intel) ctx.poolIntel = poolIntelFrom(loadDefaultIntel());
        if (process.platform !== 'linux')
          throw new UsageError('SCAN_NOT_LINUX', 'deminer scan reads /proc and runs on Linux only');
        if (format === 'table' && process.stderr.isTTY && windowMs > 0) {
          process.stderr.write(`Sampling for ${opts.window}…\n`);
        }
        const t0 = performance.now();
        const snapshot = await collectHostSnapshot({ windowMs, fsRoot: opts.root, hash });
        const t1 = performance.now();
        const all = analyzeHost(snapshot, ctx).sort(compareFindings);
        const analyzeMs = Math.round(performance.now() - t1);
        const findings = all.filter((f) => atLeast(f.severity, minLevel));
        const stats = {
          ...snapshot.stats,
          analyzeMs,
          windowMs: snapshot.windowMs,
          totalMs: Math.round(performance.now() - t0),
          findings: findings.length,
        };
        if (format === 'json') {
          process.stdout.write(`${JSON.stringify({ host: snapshot.host, findings, stats }, null, 2)}\n`);
        } else if (format === 'jsonl') {
          process.stdout.write(renderJsonl(findings));
        } else {
          const color = process.stdout.isTTY === true;
          process.stdout.write(renderTable(findings, { color, width: process.stdout.columns ?? 120 }));
          process.stdout.write(
            `\n${snapshot.host.name}: ${stats.processes} processes (${stats.kernelThreads} kernel threads), ${stats.sockets} sockets in ${stats.netns} network namespace(s), ${stats.files} persistence/config files; ${stats.vanished} exited mid-scan, ${stats.unreadable} partly unreadable. Collection ${stats.collectMs} ms + ${Math.round(windowMs / 1000)} s window.\n`,
          );
        }
        return exitCodeFor(findings, minLevel);
      }),
    );
};
