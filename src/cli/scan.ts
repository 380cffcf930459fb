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
import { loadDeminerConfig } from './config-file.ts';
import { exitCodeFor, renderJsonl, renderTable } from './findings-output.ts';

const FORMATS = ['table', 'json', 'jsonl'] as const;

interface ScanOptions {
  format: string;
  window?: string;
  minLevel?: string;
  root?: string;
  allowlist?: string;
  hash?: string;
  intel?: boolean;
  config?: string;
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
      'sampling window for CPU and connection rate, 0s for one snapshot (default: 10s)',
    )
    .option('-l, --min-level <level>', 'lowest severity that is reported and sets exit code 1 (default: low)')
    .option(
      '--root <dir>',
      'file-system root whose persistence files and package database are read (default: /)',
    )
    .option(
      '--allowlist <file>',
      'application allow-list (ApplicationControl XML): report processes not on it',
    )
    .option('--hash <policy>', 'which executables to hash: none|suspicious|all (default: suspicious)')
    .option('--no-intel', 'do not check pools against threat intelligence')
    .option('-c, --config <file>', 'config file (default: ~/.deminer/config.yaml when present); flags win')
    .action(
      run(async (opts: ScanOptions) => {
        const format = parseChoice(opts.format, FORMATS, '--format');
        const cfg = loadDeminerConfig(opts.config).scan;
        const windowMs =
          opts.window !== undefined ? parseDuration(opts.window, '--window') : (cfg.window ?? 10_000);
        const minText = opts.minLevel ?? cfg.min_level ?? 'low';
        if (!isSeverity(minText)) {
          throw new UsageError(
            'BAD_OPTION',
            `--min-level must be low|medium|high|critical (got "${minText}")`,
          );
        }
        const minLevel: Severity = minText;
        let hash = parseChoice(
          opts.hash ?? cfg.hash ?? 'suspicious',
          ['none', 'suspicious', 'all'] as const,
          '--hash',
        ) as HashPolicy;
        const root = opts.root ?? cfg.root ?? '/';
        const allowFile = opts.allowlist ?? cfg.allowlist;
        const ctx: HostAnalyticContext = {};
        if (allowFile) {
          ctx.allowlist = loadAllowlist(allowFile);
          // Hash entries can only match processes whose executables were hashed.
          if (ctx.allowlist.some((e) => e.hash)) hash = 'all';
        }
        if (opts.intel !== false && cfg.intel !== false) ctx.poolIntel = poolIntelFrom(loadDefaultIntel());
        if (process.platform !== 'linux')
          throw new UsageError('SCAN_NOT_LINUX', 'deminer scan reads /proc and runs on Linux only');
        if (format === 'table' && process.stderr.isTTY && windowMs > 0) {
          process.stderr.write(`Sampling for ${Math.round(windowMs / 1000)} s…\n`);
        }
        const t0 = performance.now();
        const snapshot = await collectHostSnapshot({ windowMs, fsRoot: root, hash });
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
