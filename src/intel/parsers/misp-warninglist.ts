import type { ParseOptions, ParseResult } from './sink.ts';
import { ParseSink } from './sink.ts';

/**
 * MISP warning lists (`{"name", "type", "list": […]}`): known-benign values,
 * so feeds of this format feed the allow-list by default. `hostname`,
 * `string` and `cidr` lists are exact values; `substring` and `regex` lists
 * cannot be expressed as indicators and are counted as ignored.
 */
export function parseMispWarninglist(text: string, options: ParseOptions): ParseResult {
  const sink = new ParseSink(options);
  let doc: { type?: unknown; list?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (e) {
    sink.issue('INTEL_BAD_JSON', `not JSON: ${(e as Error).message}`, 1);
    return sink.result;
  }
  if (!Array.isArray(doc?.list)) {
    sink.issue('INTEL_NOT_WARNINGLIST', 'expected a MISP warning list with a "list" array', 1);
    return sink.result;
  }
  const type = typeof doc.type === 'string' ? doc.type : 'string';
  if (type === 'substring' || type === 'regex') {
    for (const _ of doc.list) sink.ignore();
    return sink.result;
  }
  doc.list.forEach((v: unknown, i: number) => {
    if (typeof v !== 'string') {
      sink.issue('INTEL_BAD_VALUE', 'list entry is not a string', `list[${i}]`);
      return;
    }
    sink.value(v, `list[${i}]`);
  });
  return sink.result;
}
