import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.ts';
import { escapeControls, ProblemPrinter } from '../outputs/index.ts';
import { readEvtxFile, renderXml } from '../sources/evtx/index.ts';
import { EXIT, parseChoice, type RegisterCommand, type RunAction } from './command.ts';
import { type ResultOut, withResultOut } from './output-options.ts';

const FORMATS = ['jsonl', 'xml'] as const;

/**
 * Whether FILE could be an EVTX log at all: the file header's signature, or
 * failing that (a damaged header) one chunk signature somewhere in it. A
 * file with neither is refused with one error instead of a flood of
 * "no chunk signature" problems.
 */
function looksLikeEvtx(file: string): boolean {
  const CHUNK = Buffer.from('ElfChnk\0', 'latin1');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new UsageError('EVTX_UNREADABLE', `cannot open: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      location: file,
    });
  }
  try {
    if (!fstatSync(fd).isFile())
      throw new UsageError('EVTX_NOT_A_FILE', 'not a regular file', { location: file });
    const buf = Buffer.alloc(1 << 20);
    let pos = 0;
    let first = true;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return false;
      const view = buf.subarray(0, n);
      if (first && view.subarray(0, 8).toString('latin1') === 'ElfFile\0') return true;
      first = false;
      if (view.indexOf(CHUNK) >= 0) return true;
      // Chunks start on 64 KiB boundaries; overlap the reads by the signature's length all the same.
      pos += n - (CHUNK.length - 1);
      if (n < buf.length) return false;
    }
  } finally {
    closeSync(fd);
  }
}

/** Batches output so that a large log is not written one small string at a time; honours backpressure. */
class Out {
  private parts: string[] = [];
  private size = 0;

  /** The -o file; stdout (with its backpressure) when undefined. */
  constructor(private readonly target: ResultOut | undefined) {}

  async push(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (this.target) {
      this.target.write(text);
      return;
    }
    if (!process.stdout.write(text))
      await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}

async function dump(file: string, opts: { format: string; output?: string }): Promise<number> {
  const format = parseChoice(opts.format, FORMATS, '--format');
  if (!looksLikeEvtx(file))
    throw new UsageError('EVTX_NOT_EVTX', 'not an EVTX file: no file header and no chunk signature', {
      location: file,
    });
  if (opts.output !== undefined) return withResultOut(opts, (o) => dumpTo(file, format, o));
  return dumpTo(file, format, undefined);
}

async function dumpTo(
  file: string,
  format: (typeof FORMATS)[number],
  target: ResultOut | undefined,
): Promise<number> {
  const out = new Out(target);
  let records = 0;
  const problems = new ProblemPrinter(process.stderr);
  // jsonl needs no record trees; dropping them keeps memory flat on large logs.
  for await (const item of readEvtxFile(file, { keepTrees: format === 'xml' })) {
    if (item.kind === 'issue') {
      problems.add(item.issue);
      continue;
    }
    records++;
    await out.push(
      format === 'jsonl' ? `${JSON.stringify(item.record.event)}\n` : `${renderXml(item.record)}\n`,
    );
  }
  await out.flush();
  problems.end();
  if (problems.count > 0) {
    process.stderr.write(
      `deminer: ${escapeControls(file)}: ${records} records, ${problems.count} problem(s)\n`,
    );
    return EXIT.USAGE;
  }
  return EXIT.OK;
}

export const registerEvtx: RegisterCommand = (program: Command, run: RunAction) => {
  const evtx = program.command('evtx').description('Read Windows XML event log (EVTX) files');
  evtx
    .command('dump')
    .description(
      'Print every record of FILE in file order: jsonl (one event per line, in the JSON layout of evtx_dump) or xml (as Windows renders it)',
    )
    .argument('<file>', 'an .evtx file')
    .option('-f, --format <format>', `output format: ${FORMATS.join('|')}`, 'jsonl')
    .option('-o, --output <file>', 'write the records to FILE (replaced when complete) instead of stdout')
    .action(run((file: string, opts: { format: string; output?: string }) => dump(file, opts)));
};
