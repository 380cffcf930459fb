import type { ParseOptions, ParseResult } from './sink.ts';
import { ParseSink, parseJsonInto, parseTime } from './sink.ts';

/** STIX 2.1 object paths we can match, and the indicator types they carry. */
const PATHS: Record<string, readonly ('domain' | 'ipv4' | 'ipv6' | 'ipv4-cidr' | 'ipv6-cidr' | 'url')[]> = {
  'domain-name:value': ['domain'],
  'ipv4-addr:value': ['ipv4', 'ipv4-cidr'],
  'ipv6-addr:value': ['ipv6', 'ipv6-cidr'],
  'url:value': ['url'],
};

/** `[path = 'value']` comparisons joined by OR; anything else is not a plain indicator. */
const COMPARISON = /\[\s*([a-z0-9-]+:value)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]/g;

/**
 * STIX 2.1 bundles: `indicator` objects whose STIX pattern is a list of
 * equality comparisons (joined by OR) on domain-name, ipv4-addr, ipv6-addr
 * or url values, plus bare observables of those types. AND-ed or
 * qualified patterns describe more than one observable and are skipped.
 */
export function parseStix(text: string, options: ParseOptions): ParseResult {
  const sink = new ParseSink(options);
  const parsed = parseJsonInto(sink, text);
  if (!parsed) return sink.result;
  const doc = parsed.doc;
  const objects = (doc as { objects?: unknown }).objects;
  if ((doc as { type?: unknown }).type !== 'bundle' || !Array.isArray(objects)) {
    sink.issue('INTEL_NOT_STIX_BUNDLE', 'expected a STIX bundle with an "objects" array', 1);
    return sink.result;
  }
  const now = options.now ?? Date.now();
  objects.forEach((o: Record<string, unknown>, i: number) => {
    const where = `objects[${i}]`;
    if (o === null || typeof o !== 'object') {
      sink.issue('INTEL_BAD_OBJECT', 'not an object', where);
      return;
    }
    if (o.type === 'domain-name' || o.type === 'ipv4-addr' || o.type === 'ipv6-addr' || o.type === 'url') {
      if (typeof o.value === 'string') sink.value(o.value, where, {}, PATHS[`${o.type}:value`]);
      else sink.issue('INTEL_BAD_OBJECT', `${o.type} without a value`, where);
      return;
    }
    if (o.type !== 'indicator') {
      sink.ignore();
      return;
    }
    if (o.revoked === true || (o.pattern_type !== undefined && o.pattern_type !== 'stix')) {
      sink.ignore();
      return;
    }
    const pattern = typeof o.pattern === 'string' ? o.pattern : '';
    const validUntil = parseTime(o.valid_until);
    if (validUntil !== undefined && validUntil <= now) {
      sink.ignore();
      return;
    }
    const comparisons = [...pattern.matchAll(COMPARISON)];
    const rest = pattern
      .replace(COMPARISON, '')
      .replace(/\bOR\b/g, '')
      .trim();
    if (comparisons.length === 0 || rest !== '') {
      sink.issue(
        'INTEL_STIX_PATTERN',
        `pattern not a list of value comparisons: ${pattern.slice(0, 120)}`,
        where,
      );
      return;
    }
    const extra: { confidence?: number; firstSeen?: number; lastSeen?: number; expires?: number } = {};
    if (typeof o.confidence === 'number') extra.confidence = o.confidence;
    const from = parseTime(o.valid_from) ?? parseTime(o.created);
    if (from) extra.firstSeen = from;
    const modified = parseTime(o.modified);
    if (modified) extra.lastSeen = modified;
    if (validUntil) extra.expires = validUntil;
    for (const m of comparisons) {
      const types = PATHS[m[1]!];
      if (!types) {
        sink.issue('INTEL_STIX_PATH', `unsupported object path ${m[1]}`, where);
        continue;
      }
      sink.value(m[2]!.replace(/\\(.)/g, '$1'), where, extra, types);
    }
  });
  return sink.result;
}
