import type { Command } from 'commander';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';
import { ProblemPrinter } from '../outputs/index.ts';
import type { SearchHit } from '../pipeline/search.ts';
import { search } from '../pipeline/search.ts';
import {
  HitTable,
  hitObject,
  JsonHitStream,
  MAX_ENVELOPE_ISSUES,
  SEARCH_FORMATS,
  safeJson,
  searchSummary,
} from '../pipeline/search-format.ts';
import { compileMatcher } from '../pipeline/search-matcher.ts';
import { OutputChannel } from '../pipeline/search-output.ts';
import type { RegisterCommand } from './command.ts';
import { EXIT, parseChoice } from './command.ts';
import { parseTime } from './hunt.ts';

interface SearchCliOptions {
  text: string[];
  regex: string[];
  ignoreCase?: boolean;
  from?: string;
  to?: string;
  format: string;
  output?: string;
  quiet?: boolean;
  limit?: string;
}

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError('BAD_OPTION', `--limit must be a whole number of at least 1 (got "${v}")`);
  return n;
}

export const registerSearch: RegisterCommand = (program: Command, run) => {
  program
    .command('search')
    .description(
      'Print the event-log records and network observations whose fields contain a text or match a regular expression (like chainsaw search)',
    )
    .argument('<path...>', 'files or folders, read as hunt reads them (recognised by content)')
    .option('-e, --text <text>', 'a text to look for in every field (repeatable: any of them)', collect, [])
    .option(
      '--regex <pattern>',
      'a regular expression (RE2 syntax: no backreferences or lookaround) to match every field against (repeatable)',
      collect,
      [],
    )
    .option('-i, --ignore-case', 'texts and regular expressions ignore case')
    .option('--from <time>', 'only records at or after this time (ISO-8601)')
    .option('--to <time>', 'only records at or before this time (ISO-8601)')
    .option('-f, --format <format>', `output format: ${SEARCH_FORMATS.join('|')}`, 'table')
    .option('-o, --output <file>', 'write to this file (its folder must exist) instead of stdout')
    .option('-q, --quiet', 'no summary line')
    .option('--limit <n>', 'stop after this many hits')
    .action(
      run(async (paths: string[], opts: SearchCliOptions) => {
        const format = parseChoice(opts.format, SEARCH_FORMATS, '--format');
        const from = parseTime(opts.from, '--from');
        const to = parseTime(opts.to, '--to');
        if (from !== undefined && to !== undefined && from > to)
          throw new UsageError('BAD_OPTION', '--from is after --to');
        const limit = parseLimit(opts.limit);
        const matcher = compileMatcher({
          texts: opts.text,
          regexes: opts.regex,
          ignoreCase: opts.ignoreCase === true,
        });
        const out = OutputChannel.open(opts.output);

        const problems = new ProblemPrinter(process.stderr);
        const kept: ParseIssue[] = [];
        const json = new JsonHitStream();
        const table = new HitTable({ color: out.isTTY, width: out.columns ?? 200 });
        let started = false;
        const onHit = (hit: SearchHit): void => {
          if (format === 'jsonl') out.write(`${safeJson(hitObject(hit))}\n`);
          else if (format === 'json') {
            if (!started) out.write(json.start());
            started = true;
            out.write(json.add(hit));
          } else {
            const block = table.add(hit);
            if (block) out.write(block);
          }
        };
        let stats: Awaited<ReturnType<typeof search>>;
        try {
          stats = await search({
            paths,
            matcher,
            ...(from !== undefined ? { from } : {}),
            ...(to !== undefined ? { to } : {}),
            ...(limit !== undefined ? { limit } : {}),
            onHit,
            onIssue: (i) => {
              problems.add(i);
              if (kept.length < MAX_ENVELOPE_ISSUES) kept.push(i);
            },
            pause: () => out.pending(),
            closed: () => out.closed,
          });
        } finally {
          problems.end();
        }
        if (stats.files === 0 && stats.hits === 0) {
          await out.close();
          throw new UsageError('SEARCH_NO_INPUT', 'no readable input among the given paths', {
            location: paths.join(' '),
          });
        }
        const summary = opts.quiet ? '' : searchSummary(stats, limit);
        if (format === 'json') {
          if (!started) out.write(json.start());
          out.write(json.end(kept, stats));
        } else if (format === 'table') {
          out.write(table.end());
          if (summary) out.write(stats.hits > 0 ? `\n${summary}` : summary);
        }
        await out.close();
        if (format !== 'table' || out.file !== undefined) process.stderr.write(summary);
        if (stats.hits > 0) return EXIT.FINDINGS;
        return stats.issues > 0 ? EXIT.USAGE : EXIT.OK;
      }),
    );
};

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
