import { parseAdblock } from './adblock.ts';
import type { CsvSpec } from './csv.ts';
import { parseCsv } from './csv.ts';
import { parseHosts } from './hosts.ts';
import { parseMispEvent } from './misp.ts';
import { parseMispWarninglist } from './misp-warninglist.ts';
import { parsePlain } from './plain.ts';
import type { ParseOptions, ParseResult } from './sink.ts';
import { parseStix } from './stix.ts';

export type { CsvSpec } from './csv.ts';
export type { ParseOptions, ParseResult } from './sink.ts';

export const FEED_FORMATS = [
  'auto',
  'plain',
  'hosts',
  'adblock',
  'csv',
  'stix',
  'misp',
  'misp-warninglist',
] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

/** Guesses the format from the content, for `format: auto` and ad-hoc files. */
export function detectFormat(text: string): Exclude<FeedFormat, 'auto' | 'csv'> {
  const head = text
    .slice(0, 4096)
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (head.startsWith('{') || head.startsWith('[{')) {
    if (/"type"\s*:\s*"bundle"/.test(head)) return 'stix';
    if (/"(Event|response|Attribute)"\s*:/.test(head)) return 'misp';
    if (/"list"\s*:\s*\[/.test(text.slice(0, 1 << 20))) return 'misp-warninglist';
    return 'stix';
  }
  if (head.startsWith('[Adblock') || /^\|\|[^\s]+\^/m.test(head)) return 'adblock';
  if (/^\s*(0\.0\.0\.0|127\.0\.0\.1|::1?|::)\s+[^\s#]+/m.test(head)) return 'hosts';
  return 'plain';
}

export function parseFeed(
  text: string,
  format: FeedFormat,
  options: ParseOptions,
  csv?: CsvSpec,
): ParseResult & { format: Exclude<FeedFormat, 'auto'> } {
  const f = format === 'auto' ? detectFormat(text) : format;
  switch (f) {
    case 'plain':
      return { ...parsePlain(text, options), format: f };
    case 'hosts':
      return { ...parseHosts(text, options), format: f };
    case 'adblock':
      return { ...parseAdblock(text, options), format: f };
    case 'csv':
      return { ...parseCsv(text, options, csv ?? { value: 1 }), format: f };
    case 'stix':
      return { ...parseStix(text, options), format: f };
    case 'misp':
      return { ...parseMispEvent(text, options), format: f };
    case 'misp-warninglist':
      return { ...parseMispWarninglist(text, options), format: f };
  }
}
