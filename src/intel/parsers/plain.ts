import type { ParseOptions, ParseResult } from './sink.ts';
import { eachLine, ParseSink } from './sink.ts';

/**
 * One indicator per line: domain, IP, CIDR, IP:port or URL. `#`, `!` and `;`
 * start comments; anything after the first blank is ignored, which also reads
 * lists that carry a score column (nDPI's `name<TAB>99`).
 */
export function parsePlain(text: string, options: ParseOptions): ParseResult {
  const sink = new ParseSink(options);
  eachLine(text, (raw, n) => {
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === '!' || line[0] === ';') return sink.ignore();
    const sp = line.search(/\s/);
    sink.value(sp < 0 ? line : line.slice(0, sp), n);
  });
  return sink.result;
}
