/**
 * Finding sinks: one file per format, one line each in `SINKS`. Also the one
 * problem printer, the one `--min-level` parser and the escaping every human
 * format uses. Depends on `core/` only.
 */
import { csvSink } from './csv.ts';
import { htmlSink } from './html.ts';
import { jsonSink } from './json.ts';
import { jsonlSink } from './jsonl.ts';
import type { FindingSink, SinkFactory, SinkOptions } from './sink.ts';
import { tableSink } from './table.ts';
import { timelineSink } from './timeline.ts';

const SINKS = {
  table: tableSink,
  json: jsonSink,
  jsonl: jsonlSink,
  csv: csvSink,
  timeline: timelineSink,
  html: htmlSink,
} as const satisfies Record<string, SinkFactory>;

export type FindingFormat = keyof typeof SINKS;

/** Every finding format, in the order help texts list them. */
export const FINDING_FORMATS = Object.freeze(Object.keys(SINKS)) as readonly FindingFormat[];

export function isFindingFormat(format: string): format is FindingFormat {
  return Object.hasOwn(SINKS, format);
}

export function sinkFor(format: FindingFormat, options: SinkOptions): FindingSink {
  return SINKS[format](options);
}

export { csvCell, csvSink, renderCsv } from './csv.ts';
export { escapeHtml, HTML_CSP, type HtmlOptions, htmlSink, renderHtml } from './html.ts';
export { type JsonEnvelope, jsonEnvelope, jsonSink, renderJson } from './json.ts';
export { jsonlSink, renderJsonl } from './jsonl.ts';
export { filterMinLevel, parseMinLevel } from './min-level.ts';
export {
  formatMoreProblems,
  formatProblem,
  MAX_SHOWN_PROBLEMS,
  ProblemPrinter,
  printProblems,
} from './problems.ts';
export { escapeControls } from './safe-text.ts';
export type { FindingSink, RunReport, SinkFactory, SinkOptions, TextOut } from './sink.ts';
export { type RuleSummary, renderSummary, type SummaryStats, summarizeByRule } from './summary.ts';
export { renderTable, subjectOf, type TableOptions, tableSink } from './table.ts';
export { type Cell, colours, type Painted, paint, TextTable, type TextTableOptions } from './text-table.ts';
export {
  compareByTime,
  evidenceFile,
  renderTimeline,
  sortByTime,
  type TimelineOptions,
  timelineDetails,
  timelineSink,
} from './timeline.ts';
