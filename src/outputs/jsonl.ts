import type { Finding } from '../core/finding.ts';
import type { FindingSink, RunReport, SinkOptions } from './sink.ts';

/** One finding per line, JSON (which escapes control characters itself). */
export function renderJsonl(findings: readonly Finding[]): string {
  return findings.map((f) => `${JSON.stringify(f)}\n`).join('');
}

/** Lines are gathered into writes of about this many characters rather than one write per finding. */
const BATCH_CHARS = 1 << 16;

/**
 * Prints each finding when it is written, so a live run can be followed line
 * by line; at the end, the findings of the report it has not printed yet
 * (by id), so a one-shot run can hand everything over at once.
 */
export function jsonlSink(options: SinkOptions): FindingSink {
  const printed = new Set<string>();
  return {
    format: 'jsonl',
    machine: true,
    write(finding) {
      printed.add(finding.id);
      options.out.write(`${JSON.stringify(finding)}\n`);
    },
    end(run: RunReport) {
      let batch = '';
      for (const f of run.findings) {
        if (printed.has(f.id)) continue;
        printed.add(f.id);
        batch += `${JSON.stringify(f)}\n`;
        if (batch.length >= BATCH_CHARS) {
          options.out.write(batch);
          batch = '';
        }
      }
      if (batch) options.out.write(batch);
    },
  };
}
