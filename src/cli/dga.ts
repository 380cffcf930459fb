import { UsageError } from '../core/errors.ts';
import { canonicalDomain } from '../intel/classify.ts';
import { type DgaScore, shippedScorer } from '../ml/dga/index.ts';
import { colours, ProblemPrinter, paint, TextTable } from '../outputs/index.ts';
import { parseChoice, type RegisterCommand } from './command.ts';
import { addOutputOptions, exitCodeFor, type OutputCliOptions, withResultOut } from './output-options.ts';
import { readListLines } from './read-lines.ts';

const FORMATS = ['table', 'jsonl'] as const;
interface ScoreOptions extends OutputCliOptions {
  file?: string;
}

/** Characters that cannot appear in a DNS name as typed or logged (URLs, spaces, quotes). */
const NOT_A_NAME = /[\s/\\"'<>@?#=,;]/;

/** Names scored for the table are held to print them together; past this many, use jsonl. */
const MAX_TABLE_ROWS = 100_000;

export const registerDga: RegisterCommand = (program, run) => {
  const dga = program
    .command('dga')
    .description('Score DNS names for domain-generation-algorithm (DGA) likeness.');
  const score = dga
    .command('score')
    .description(
      'Score names (arguments, or one per line from --file; "-" as an argument or file is stdin). ' +
        'Exit 1 when any name is DGA-like, 0 when none is, 2 when an input could not be read in full.',
    )
    .argument('[domain...]', 'DNS names to score ("-": read them from stdin)')
    .option('--file <file>', 'read names from FILE, one per line (# comments and blank lines skipped)');
  addOutputOptions(score, FORMATS, 'table');
  score.action(run((domains: string[], opts: ScoreOptions) => scoreCommand(domains, opts)));
};

async function scoreCommand(domains: readonly string[], opts: ScoreOptions): Promise<number> {
  const format = parseChoice(opts.format, FORMATS, '--format');
  const files: string[] = domains.filter((d) => d === '-');
  const names = domains.filter((d) => d !== '-');
  if (opts.file !== undefined) files.push(opts.file);
  if (files.filter((f) => f === '-').length > 1)
    throw new UsageError('DGA_STDIN_TWICE', 'stdin ("-") can be read once');
  if (names.length === 0 && files.length === 0) {
    throw new UsageError('DGA_NO_INPUT', 'give DNS names as arguments or --file FILE (use "-" for stdin)');
  }
  for (const d of names) {
    if (d.trim().replace(/\.+$/, '').length === 0) {
      throw new UsageError('DGA_EMPTY_NAME', 'an empty domain name was given as an argument');
    }
  }
  const scorer = shippedScorer();
  const problems = new ProblemPrinter(process.stderr);
  return withResultOut(opts, async (out) => {
    const rows: DgaScore[] = [];
    let flagged = 0;
    let scored = 0;
    let pending: string[] = [];
    const flush = (): void => {
      if (pending.length > 0) out.write(`${pending.join('\n')}\n`);
      pending = [];
    };
    const emit = (s: DgaScore): void => {
      scored++;
      if (s.dga) flagged++;
      if (format === 'table') {
        if (rows.length === MAX_TABLE_ROWS)
          throw new UsageError(
            'DGA_TOO_MANY_FOR_TABLE',
            `more than ${MAX_TABLE_ROWS} names: use --format jsonl, which streams`,
          );
        rows.push(s);
      } else {
        pending.push(JSON.stringify({ domain: s.domain, score: round(s.score), dga: s.dga }));
        if (pending.length >= 4096) flush();
      }
    };
    const take = (name: string, location: string): void => {
      const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
      if (NOT_A_NAME.test(name)) {
        problems.add({
          code: 'DGA_BAD_NAME',
          message: `not a DNS name: ${JSON.stringify(shown)}; skipped`,
          location,
        });
        return;
      }
      const c = canonicalDomain(name);
      if (!c.ok) {
        problems.add({ code: 'DGA_BAD_NAME', message: `${c.message}; skipped`, location });
        return;
      }
      emit(scorer.explain(c.value));
    };

    names.forEach((d, i) => {
      take(d.trim(), `argument ${i + 1}`);
    });
    for (const f of files)
      for await (const l of readListLines(f, (i) => problems.add(i), { maxLine: 1024 })) {
        // Lists often carry a second column (rank, family): the name is the first field.
        const name = l.value.split(/[\t ,]+/, 1)[0]!;
        if (name.replace(/\.+$/, '').length === 0) continue;
        take(name, l.location);
      }
    flush();

    if (format === 'table') out.write(renderTable(rows, out.color));
    problems.end();
    const skipped = problems.count;
    if (skipped > 0 && !opts.quiet) {
      process.stderr.write(`deminer: ${scored} names scored, ${skipped} skipped, ${flagged} DGA-like\n`);
    }
    return exitCodeFor(flagged, skipped);
  });
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function renderTable(rows: readonly DgaScore[], color: boolean): string {
  if (rows.length === 0) return 'No names scored.\n';
  const table = new TextTable({ head: ['Domain', 'Scored label', 'Score', 'DGA'], color });
  for (const r of rows) {
    const what = r.kind === 'label' ? (r.label ?? '') : `(${r.kind}${r.label ? `: ${r.label}` : ''})`;
    table.push([r.domain, what, r.score.toFixed(3), r.dga ? paint('yes', colours.red) : 'no']);
  }
  return `${table.toString()}\n`;
}
