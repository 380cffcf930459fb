import type { ParseIssue } from '../../core/errors.ts';
import { classifyValue } from '../classify.ts';
import type { Indicator, IndicatorType } from '../types.ts';

export interface ParseOptions {
  /** Feed name recorded as each indicator's source. */
  source: string;
  /** Default confidence (0..100) when the feed does not give one. */
  confidence: number;
  /** Where the text came from, for issue locations. */
  file: string;
  /** Indicator lifetime after it was last seen in the feed (ms), 0 = none. */
  ttlMs?: number;
  now?: number;
  /** Refuse public suffixes (co.uk, github.io); allow-lists turn this off. */
  checkPublicSuffix?: boolean;
}

export interface ParseResult {
  indicators: Indicator[];
  /** The first issues in full; `issueCount` has them all. */
  issues: ParseIssue[];
  issueCount: number;
  /** Lines or objects that hold no indicator by design (comments, cosmetic rules, other types). */
  ignored: number;
}

const MAX_KEPT_ISSUES = 50;

/** Collects indicators and counted issues while a parser walks its input. */
export class ParseSink {
  readonly result: ParseResult = { indicators: [], issues: [], issueCount: 0, ignored: 0 };
  constructor(readonly options: ParseOptions) {}

  issue(code: string, message: string, where: number | string): void {
    this.result.issueCount++;
    if (this.result.issues.length < MAX_KEPT_ISSUES)
      this.result.issues.push({ code, message, location: `${this.options.file}:${where}` });
  }

  ignore(): void {
    this.result.ignored++;
  }

  /** Classifies and adds a raw value; `expect` restricts it to some types. */
  value(
    raw: string,
    where: number | string,
    extra: Partial<Omit<Indicator, 'value' | 'type' | 'source'>> = {},
    expect?: readonly IndicatorType[],
  ): void {
    const c = classifyValue(raw, this.options.checkPublicSuffix ?? true);
    if (!c.ok) {
      this.issue(c.code, c.message, where);
      return;
    }
    if (expect && !expect.includes(c.type)) {
      this.issue('INTEL_UNEXPECTED_TYPE', `"${raw}" is a ${c.type}, expected ${expect.join(' or ')}`, where);
      return;
    }
    const ind: Indicator = {
      value: c.value,
      type: c.type,
      source: this.options.source,
      confidence: extra.confidence ?? this.options.confidence,
    };
    if (extra.firstSeen) ind.firstSeen = extra.firstSeen;
    if (extra.lastSeen) ind.lastSeen = extra.lastSeen;
    const ttl = this.options.ttlMs ?? 0;
    const expires = extra.expires ?? (ttl > 0 ? (extra.lastSeen ?? this.options.now ?? Date.now()) + ttl : 0);
    if (expires) ind.expires = expires;
    this.result.indicators.push(ind);
  }
}

/** Calls `fn(line, lineNo)` for each line without building an array of lines. */
export function eachLine(text: string, fn: (line: string, lineNo: number) => void): void {
  let start = 0;
  let n = 1;
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    fn(line, n++);
    start = end + 1;
  }
}

/** Epoch ms of an ISO date or Unix seconds, or undefined. */
export function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return parseTime(Number(v.trim()));
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Parses a whole JSON document, or records one `INTEL_BAD_JSON` issue and returns undefined. */
export function parseJsonInto(sink: ParseSink, text: string): { doc: unknown } | undefined {
  try {
    return { doc: JSON.parse(text) };
  } catch (e) {
    sink.issue('INTEL_BAD_JSON', `not JSON: ${(e as Error).message}`, 1);
    return undefined;
  }
}
