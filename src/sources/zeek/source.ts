import type { Source } from '../../core/stages.ts';
import { lineRecords } from '../batched.ts';
import { ZeekLogParser } from './zeek-log.ts';

/** Whether the start of a file is a Zeek log: TSV with its `#separator` header, or JSON lines with Zeek's field names. */
export function isZeekLog(head: Uint8Array): boolean {
  let text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trimStart().startsWith('#separator')) return true;
  const first = text.split('\n', 1)[0]?.trim() ?? '';
  return (
    first.startsWith('{') &&
    /"(?:id\.orig_h|uid|fuid|certificate\.subject)"\s*:/.test(first) &&
    /"ts"\s*:/.test(first)
  );
}

/** Zeek conn, dns, ssl, x509, http and dhcp logs (TSV or JSON), rotated logs of a day read as one stream. */
export const zeekSource: Source = {
  name: 'zeek',
  sniff: (head) => isZeekLog(head),
  read(path) {
    const parser = new ZeekLogParser(path);
    // The parser counts lines itself; one it never saw still moves its count on.
    return lineRecords(
      path,
      'ZEEK_LINE_TOO_LONG',
      (line) => parser.line(line),
      () => parser.lines++,
    );
  },
};
