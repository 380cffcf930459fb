import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { compareFindings, dedupeFindings } from '../core/finding.ts';
import { atLeast, isSeverity, type Severity } from '../core/severity.ts';
import { loadDefaultIntel } from '../detect/intel/index.ts';
import { IntelMatchDetector } from '../detect/intel-match/intel-match-detector.ts';
import { networkLists } from '../detect/network/lists.ts';
import { buildEngine } from '../detect/sigma/index.ts';
import { hunt } from '../hunt/hunt.ts';
import { renderSummary, summarizeByRule } from '../hunt/summary.ts';
import type { RegisterCommand } from './command.ts';
import { EXIT, parseChoice } from './command.ts';
import { exitCodeFor, renderCsv, renderJsonl, renderTable } from './findings-output.ts';

const FORMATS = ['table', 'csv', 'jsonl', 'json'] as const;
/** Problems printed one by one; the rest are counted. */
const MAX_SHOWN_ISSUES = 20;

interface HuntCliOptions {
  rules: string[];
  builtin: boolean;
  format: string;
  minLevel: string;
  from?: string;
  to?: string;
  progress: boolean;
  intel: boolean;
}

function parseTime(v: string | undefined, option: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms))
    throw new UsageError('BAD_OPTION', `${option} must be a date or ISO-8601 time (got "${v}")`);
  return ms;
}

export const registerHunt: RegisterCommand = (program: Command, run) => {
  program
    .command('hunt')
    .description(
      'Hunt offline over event logs (EVTX, JSON/JSONL exports) with Sigma rules; folders are walked',
    )
    .argument('<path...>', 'files or folders; each file is recognised by its content')
    .option('-r, --rules <dir>', 'also load Sigma rules from this file or folder (repeatable)', collect, [])
    .option('--no-builtin', "leave out deminer's own rules")
    .option('-f, --format <format>', `output format: ${FORMATS.join('|')}`, 'table')
    .option('-l, --min-level <level>', 'lowest severity that is reported and sets exit code 1', 'low')
    .option('--from <time>', 'only events at or after this time (ISO-8601)')
    .option('--to <time>', 'only events at or before this time (ISO-8601)')
    .option('--no-progress', 'no progress bar even on a terminal')
    .option('--no-intel', 'check pools against the built-in list only, not threat intelligence')
    .action(
      run(async (paths: string[], opts: HuntCliOptions) => {
        const format = parseChoice(opts.format, FORMATS, '--format');
        if (!isSeverity(opts.minLevel))
          throw new UsageError(
            'BAD_OPTION',
            `--min-level must be low|medium|high|critical (got "${opts.minLevel}")`,
          );
        const minLevel: Severity = opts.minLevel;
        const from = parseTime(opts.from, '--from');
        const to = parseTime(opts.to, '--to');
        if (from !== undefined && to !== undefined && from > to)
          throw new UsageError('BAD_OPTION', '--from is after --to');

        const build = buildEngine({ ruleDirs: opts.rules, builtin: opts.builtin });
        const engine = build.engine;
        if (engine.stats.runnable === 0)
          throw new UsageError('HUNT_NO_RULES', 'no runnable rule was loaded (check --rules)');

        const intel = opts.intel ? loadDefaultIntel() : undefined;
        // DNS queries and connections in event logs are checked against intel beside the Sigma rules.
        const poolCheck = new IntelMatchDetector({ intel, floor: networkLists().poolDomains });

        const tty = process.stderr.isTTY === true && opts.progress;
        let bar: SingleBar | undefined;
        if (tty) {
          bar = new SingleBar({
            stream: process.stderr,
            format: 'hunting [{bar}] {percentage}% | {filesDone}/{files} files | {events} events',
            hideCursor: true,
            clearOnComplete: true,
          });
          bar.start(1, 0, { filesDone: 0, files: 0, events: 0 });
        }
        const result = await hunt({
          paths,
          detectors: [engine, poolCheck],
          ...(intel ? { intel } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(bar
            ? {
                onProgress: (p) => {
                  bar.setTotal(Math.max(1, p.bytes));
                  bar.update(p.bytesDone, { filesDone: p.filesDone, files: p.files, events: p.events });
                },
              }
            : {}),
        });
        bar?.stop();

        const problems = [...build.issues, ...result.issues];
        for (const i of problems.slice(0, MAX_SHOWN_ISSUES))
          process.stderr.write(`deminer: warning: ${i.code}: ${i.location}: ${i.message}\n`);
        if (problems.length > MAX_SHOWN_ISSUES)
          process.stderr.write(`deminer: … and ${problems.length - MAX_SHOWN_ISSUES} more problem(s)\n`);
        if (result.stats.files === 0)
          throw new UsageError('HUNT_NO_INPUT', 'no readable event log among the given paths', {
            location: paths.join(' '),
          });

        const findings = dedupeFindings(result.findings)
          .filter((f) => atLeast(f.severity, minLevel))
          .sort(compareFindings);
        const summary = renderSummary(summarizeByRule(findings), result.stats, findings.length);
        const rulesLine = `Rules: ${engine.stats.runnable} runnable of ${engine.stats.rules} loaded from ${build.files} file(s)${engine.stats.unmapped ? `, ${engine.stats.unmapped} for log sources without a mapping (not run)` : ''}${build.issues.length ? `, ${build.issues.length} skipped as invalid` : ''}.\n`;
        if (format === 'table') {
          process.stdout.write(
            renderTable(findings, {
              color: process.stdout.isTTY === true,
              width: process.stdout.columns ?? 120,
            }),
          );
          process.stdout.write(`\n${summary}${rulesLine}`);
        } else {
          if (format === 'jsonl') process.stdout.write(renderJsonl(findings));
          else if (format === 'csv') process.stdout.write(renderCsv(findings));
          else
            process.stdout.write(
              `${JSON.stringify({ findings, stats: { ...result.stats, rules: engine.stats } }, null, 2)}\n`,
            );
          process.stderr.write(`${summary}${rulesLine}`);
        }
        return exitCodeFor(findings, minLevel) === EXIT.FINDINGS ? EXIT.FINDINGS : EXIT.OK;
      }),
    );
};

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
