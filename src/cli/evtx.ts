import type { Command } from 'commander';
import { readEvtxFile, renderXml } from '../sources/evtx/index.ts';
import { EXIT, parseChoice, type RegisterCommand, type RunAction } from './command.ts';

const FORMATS = ['jsonl', 'xml'] as const;

/** Batches output so that a large log is not written one small string at a time; honours backpressure. */
class Out {
  private parts: string[] = [];
  private size = 0;

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
    if (!process.stdout.write(text))
      await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}

async function dump(file: string, opts: { format: string }): Promise<number> {
  const format = parseChoice(opts.format, FORMATS, '--format');
  const out = new Out();
  let records = 0;
  let issues = 0;
  // jsonl needs no record trees; dropping them keeps memory flat on large logs.
  for await (const item of readEvtxFile(file, { keepTrees: format === 'xml' })) {
    if (item.kind === 'issue') {
      issues++;
      process.stderr.write(`deminer: ${item.issue.code}: ${item.issue.location}: ${item.issue.message}\n`);
      continue;
    }
    records++;
    await out.push(
      format === 'jsonl' ? `${JSON.stringify(item.record.event)}\n` : `${renderXml(item.record)}\n`,
    );
  }
  await out.flush();
  if (issues > 0) {
    process.stderr.write(`deminer: ${file}: ${records} records, ${issues} problems reported above\n`);
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
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'jsonl')
    .action(run((file: string, opts: { format: string }) => dump(file, opts)));
};
