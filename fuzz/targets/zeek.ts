import { ZeekLogParser } from '../../src/sources/zeek/zeek-log.ts';
import { type Features, lines } from '../expected.ts';

/** A Zeek log (TSV with its headers, or JSON lines) through one parser, so header state carries over. */
export function fuzz(data: Uint8Array): Features {
  const p = new ZeekLogParser('fuzz.log');
  const out = new Set<string>();
  for (const line of lines(data)) {
    const r = p.line(line);
    if (r === undefined) continue;
    out.add('code' in r ? `issue:${r.code}` : `net:${r.kind}`);
  }
  return [...out];
}
