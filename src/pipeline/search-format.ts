import type { ParseIssue } from '../core/errors.ts';
import { TextTable } from '../outputs/text-table.ts';
import type { SearchHit, SearchStats } from './search.ts';
import { hitColumns } from './search.ts';

export const SEARCH_FORMATS = ['table', 'json', 'jsonl'] as const;
export type SearchFormat = (typeof SEARCH_FORMATS)[number];

/**
 * Characters JSON.stringify leaves raw that a terminal may act on (DEL, C1
 * controls such as the one-byte CSI, bidi overrides, line separators): JSON
 * output goes to terminals too (`| head`), so they are written as `\uXXXX`,
 * which any JSON reader turns back into the same string.
 */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** JSON.stringify, with the characters above escaped. */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** One hit as a JSON object: where it was found, which field matched, and the record itself. */
export function hitObject(hit: SearchHit): Record<string, unknown> {
  return {
    '@timestamp': hit.time ?? null,
    type: hit.type,
    file: hit.file,
    location: hit.location,
    field: hit.field,
    match: hit.value.slice(hit.match.index, hit.match.index + hit.match.length),
    event: hit.event,
  };
}

/** Characters of context shown on each side of the matched text. */
const BEFORE = 30;
const AFTER = 50;
/** The matched text itself is cut past this many characters. */
const MATCH_MAX = 80;

/**
 * A short piece of `value` around the match, with `…` where it was cut.
 * Cuts never split a surrogate pair. The caller escapes it (TextTable does).
 */
export function excerpt(value: string, index: number, length: number): string {
  let start = Math.max(0, index - BEFORE);
  let end = Math.min(value.length, index + Math.min(length, MATCH_MAX) + AFTER);
  if (start > 0 && isLowSurrogate(value.charCodeAt(start))) start--;
  if (end < value.length && isLowSurrogate(value.charCodeAt(end))) end++;
  return `${start > 0 ? '…' : ''}${value.slice(start, end)}${end < value.length ? '…' : ''}`;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Rows per table block: the table is printed in blocks as hits come, never held whole. */
const BLOCK_ROWS = 100;
const HEAD = ['time', 'host', 'channel / source', 'event id', 'file', 'field', 'excerpt'] as const;
/** Widths of every column but the excerpt (cli-table3 widths count one space of padding each side). */
const FIXED = [26, 18, 22, 10, 30, 22] as const;

/**
 * The table of hits, in blocks of fixed column widths (so the blocks line up),
 * each with its head. Every cell goes through TextTable, which escapes
 * control characters: a record cannot drive the terminal.
 */
export class HitTable {
  private table: TextTable | undefined;
  private readonly widths: number[];

  constructor(private readonly opts: { color: boolean; width: number }) {
    const fixed = FIXED.reduce((s, w) => s + w, 0) + HEAD.length + 1;
    this.widths = [...FIXED, Math.max(30, opts.width - fixed)];
  }

  /** Adds a hit; returns a finished block to print when one is full. */
  add(hit: SearchHit): string | undefined {
    this.table ??= new TextTable({
      head: HEAD,
      color: this.opts.color,
      colWidths: this.widths,
      wordWrap: true,
      wrapOnWordBoundary: false,
    });
    const c = hitColumns(hit);
    this.table.push([
      hit.time ?? '-',
      c.host || '-',
      c.channel || '-',
      c.eventId || '-',
      hit.location,
      hit.field,
      excerpt(hit.value, hit.match.index, hit.match.length),
    ]);
    return this.table.length >= BLOCK_ROWS ? this.end() : undefined;
  }

  /** The last block (empty when there is none). */
  end(): string {
    const t = this.table;
    this.table = undefined;
    return t ? `${t.toString()}\n` : '';
  }
}

/** Issues kept for the json envelope; more are counted in stats. */
export const MAX_ENVELOPE_ISSUES = 1000;

/**
 * The json format, streamed: `{"hits": [` … each hit as found … `], "issues":
 * […], "stats": {…}}`. Hits are written as they come, so the envelope never
 * holds them all.
 */
export class JsonHitStream {
  private first = true;

  start(): string {
    return '{"hits":[';
  }

  add(hit: SearchHit): string {
    const s = `${this.first ? '\n' : ',\n'}${safeJson(hitObject(hit))}`;
    this.first = false;
    return s;
  }

  end(issues: readonly ParseIssue[], stats: SearchStats): string {
    return `${this.first ? '' : '\n'}],"issues":${safeJson(issues)},"stats":${safeJson(stats)}}\n`;
  }
}

export function searchSummary(stats: SearchStats, limit: number | undefined): string {
  const more = stats.limited ? ` (stopped at --limit ${limit})` : '';
  const range = stats.outOfRange ? `, ${stats.outOfRange} outside --from/--to` : '';
  const skipped = stats.unrecognized ? `, ${stats.unrecognized} file(s) of no known kind skipped` : '';
  const problems = stats.issues ? `, ${stats.issues} problem(s)` : '';
  return `${stats.hits} hit(s)${more} in ${stats.events} event(s) from ${stats.files} file(s)${range}${skipped}${problems}.\n`;
}
