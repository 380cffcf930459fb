import type { Command } from 'commander';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';
import { ProblemPrinter } from '../outputs/index.ts';
import type { MetricName } from '../pipeline/metrics.ts';
import { METRICS, metrics } from '../pipeline/metrics.ts';
import {
  METRICS_FORMATS,
  metricsNotes,
  renderMetricsCsv,
  renderMetricsJson,
  renderMetricsTable,
} from '../pipeline/metrics-format.ts';
import { MAX_ENVELOPE_ISSUES } from '../pipeline/search-format.ts';
import { OutputChannel } from '../pipeline/search-output.ts';
import type { RegisterCommand } from './command.ts';
import { EXIT, parseChoice } from './command.ts';

interface MetricsCliOptions {
  format: string;
  output?: string;
  by: string[];
  top?: string;
}

function parseTop(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError('BAD_OPTION', `--top must be a whole number of at least 1 (got "${v}")`);
  return n;
}

function parseBy(values: readonly string[]): MetricName[] | undefined {
  if (values.length === 0) return undefined;
  const out: MetricName[] = [];
  for (const v of values.flatMap((x) => x.split(','))) {
    const m = parseChoice(v.trim(), METRICS, '--by');
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

export const registerMetrics: RegisterCommand = (program: Command, run) => {
  program
    .command('metrics')
    .description(
      'Count events per event ID, computer, channel and provider in event logs, and conversations per host in captures and network logs (like hayabusa eid-metrics)',
    )
    .argument('<path...>', 'files or folders, read as hunt reads them (recognised by content)')
    .option('-f, --format <format>', `output format: ${METRICS_FORMATS.join('|')}`, 'table')
    .option('-o, --output <file>', 'write to this file (its folder must exist) instead of stdout')
    .option(
      '--by <metric>',
      `which table(s): ${METRICS.join('|')} (repeatable or comma-separated; default: every event-log table for event logs, conversation for network inputs)`,
      collect,
      [],
    )
    .option('--top <n>', 'at most this many rows per table, most events first')
    .action(
      run(async (paths: string[], opts: MetricsCliOptions) => {
        const format = parseChoice(opts.format, METRICS_FORMATS, '--format');
        const by = parseBy(opts.by);
        const top = parseTop(opts.top);
        const out = OutputChannel.open(opts.output);

        const problems = new ProblemPrinter(process.stderr);
        const kept: ParseIssue[] = [];
        let result: Awaited<ReturnType<typeof metrics>>;
        try {
          result = await metrics({
            paths,
            ...(by ? { by } : {}),
            ...(top !== undefined ? { top } : {}),
            onIssue: (i) => {
              problems.add(i);
              if (kept.length < MAX_ENVELOPE_ISSUES) kept.push(i);
            },
          });
        } finally {
          problems.end();
        }
        if (result.stats.files === 0) {
          await out.close();
          throw new UsageError('METRICS_NO_INPUT', 'no readable input among the given paths', {
            location: paths.join(' '),
          });
        }
        if (format === 'json') out.write(renderMetricsJson(result, kept));
        else if (format === 'csv') out.write(renderMetricsCsv(result));
        else out.write(renderMetricsTable(result, out.isTTY));
        await out.close();
        if (format === 'csv') process.stderr.write(metricsNotes(result));
        // Counts over damaged or unreadable input are incomplete: say so in the exit code too.
        return result.stats.issues > 0 ? EXIT.USAGE : EXIT.OK;
      }),
    );
};

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
