import type { ParseIssue } from '../core/errors.ts';
import type { Finding } from '../core/finding.ts';
import type { FindingSink, RunReport, SinkOptions } from './sink.ts';

/** The one json shape of every command: `{ …extra, findings, issues, stats }`. */
export interface JsonEnvelope {
  [extra: string]: unknown;
  findings: readonly Finding[];
  issues: readonly ParseIssue[];
  stats: object;
}

export function jsonEnvelope(run: RunReport): JsonEnvelope {
  return { ...run.extra, findings: run.findings, issues: run.issues, stats: run.stats };
}

export function renderJson(run: RunReport): string {
  return `${JSON.stringify(jsonEnvelope(run), null, 2)}\n`;
}

/** The whole run as one JSON document, printed at the end. */
export function jsonSink(options: SinkOptions): FindingSink {
  return {
    format: 'json',
    machine: true,
    write() {},
    end(run) {
      options.out.write(renderJson(run));
    },
  };
}
