import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import Table from 'cli-table3';
import pc from 'picocolors';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';
import { type DgaScore, shippedScorer } from '../detect/ml/dga/index.ts';
import { EXIT, parseChoice, type RegisterCommand } from './command.ts';

const FORMATS = ['table', 'jsonl'] as const;
interface ScoreOptions {
  file?: string;
  format: string;
}

/** Characters that cannot appear in a DNS name as typed or logged (URLs, spaces, quotes). */
const NOT_A_NAME = /[\s/\\"'<>@?#=,;]/;

export const registerDga: RegisterCommand = (program, run) => {
  const dga = program
    .command('dga')
    .description('Score DNS names for domain-generation-algorithm (DGA) likeness.');
  dga
    .command('score')
    .description(
      'Score names (arguments, or one per line from --file, "-" for stdin). ' +
        'Exit 1 when any name is DGA-like, 0 when none is, 2 on bad input.',
    )
    .argument('[domain...]', 'DNS names to score')
    .option('-f, --file <file>', 'read names from FILE, one per line (# comments and blank lines skipped)')
    .option('--format <format>', `output format: ${FORMATS.join('|')}`, 'table')
    .action(run((domains: string[], opts: ScoreOptions) => scoreCommand(domains, opts)));
};

async function scoreCommand(domains: readonly string[], opts: ScoreOptions): Promise<number> {
  const format = parseChoice(opts.format, FORMATS, '--format');
  if (domains.length === 0 && opts.file === undefined) {
    throw new UsageError('DGA_NO_INPUT', 'give DNS names as arguments or --file FILE (use "-" for stdin)');
  }
  for (const d of domains) {
    if (d.trim().replace(/\.+$/, '').length === 0) {
      throw new UsageError('DGA_EMPTY_NAME', 'an empty domain name was given as an argument');
    }
  }
  const scorer = shippedScorer();
  const issues: ParseIssue[] = [];
  const rows: DgaScore[] = [];
  let flagged = 0;
  let scored = 0;
  let pending: string[] = [];
  const emit = (s: DgaScore): void => {
    scored++;
    if (s.dga) flagged++;
    if (format === 'table') rows.push(s);
    else {
      pending.push(JSON.stringify({ domain: s.domain, score: round(s.score), dga: s.dga }));
      if (pending.length >= 4096) flush();
    }
  };
  const flush = (): void => {
    if (pending.length > 0) process.stdout.write(`${pending.join('\n')}\n`);
    pending = [];
  };
  const take = (name: string, location: string): void => {
    if (NOT_A_NAME.test(name)) {
      issues.push({ code: 'DGA_BAD_NAME', message: `not a DNS name: ${JSON.stringify(name)}`, location });
      return;
    }
    emit(scorer.explain(name));
  };

  domains.forEach((d, i) => {
    take(d.trim(), `argument ${i + 1}`);
  });
  if (opts.file !== undefined) await readNames(opts.file, take);
  flush();

  if (format === 'table') process.stdout.write(renderTable(rows, process.stdout.isTTY === true));
  for (const issue of issues.slice(0, 20)) {
    process.stderr.write(`deminer: ${issue.code}: ${issue.location}: ${issue.message}\n`);
  }
  if (issues.length > 20) process.stderr.write(`deminer: … ${issues.length - 20} more bad lines skipped\n`);
  if (issues.length > 0) {
    process.stderr.write(`deminer: ${scored} names scored, ${issues.length} skipped, ${flagged} DGA-like\n`);
  }
  if (scored === 0 && issues.length > 0) return EXIT.USAGE;
  return flagged > 0 ? EXIT.FINDINGS : EXIT.OK;
}

async function readNames(file: string, take: (name: string, location: string) => void): Promise<void> {
  const where = file === '-' ? '<stdin>' : file;
  const input = file === '-' ? process.stdin : createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => {
    if (file === '-') resolve();
    input.once('error', (e: Error) =>
      reject(new UsageError('DGA_FILE_UNREADABLE', String(e), { location: where })),
    );
    input.once('readable', () => resolve());
    input.once('end', () => resolve());
  });
  await opened;
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const raw of lines) {
    n++;
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    // Lists often carry a second column (rank, family): the name is the first field.
    const name = line.split(/[\t ,]+/, 1)[0]!;
    if (name.replace(/\.+$/, '').length === 0) continue;
    take(name, `${where}:${n}`);
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function renderTable(rows: readonly DgaScore[], color: boolean): string {
  if (rows.length === 0) return 'No names scored.\n';
  const table = new Table({
    head: ['Domain', 'Scored label', 'Score', 'DGA'],
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
  });
  for (const r of rows) {
    const verdict = r.dga ? 'yes' : 'no';
    const what = r.kind === 'label' ? (r.label ?? '') : `(${r.kind}${r.label ? `: ${r.label}` : ''})`;
    table.push([r.domain, what, r.score.toFixed(3), color && r.dga ? pc.red(verdict) : verdict]);
  }
  return `${table.toString()}\n`;
}
