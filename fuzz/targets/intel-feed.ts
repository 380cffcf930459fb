import { FEED_FORMATS, parseFeed } from '../../src/intel/parsers/index.ts';
import { type Features, refusalAware, text } from '../expected.ts';

/**
 * A threat-intel feed in one of the formats `parseFeed` dispatches to. The
 * first byte picks the format (`auto` included, so detection is fuzzed too)
 * and, for CSV, the column layout; the rest is the feed.
 */
export function fuzz(data: Uint8Array): Features {
  if (data.length === 0) return [];
  const pick = data[0]!;
  const format = FEED_FORMATS[pick % FEED_FORMATS.length]!;
  const csv = { delimiter: pick & 0x80 ? ';' : ',', header: (pick & 0x40) !== 0, value: 1, confidence: 2 };
  return refusalAware(() => {
    const r = parseFeed(
      text(data.subarray(1)),
      format,
      { source: 'fuzz', confidence: 50, file: 'feed', now: 0 },
      csv,
    );
    return [
      `format:${r.format}`,
      ...r.issues.map((i) => `issue:${i.code}`),
      `some:${r.indicators.length > 0}`,
    ];
  });
}
