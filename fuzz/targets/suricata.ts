import { parseEveLine } from '../../src/sources/suricata/eve-json.ts';
import { type Features, lines } from '../expected.ts';

/** Suricata EVE JSON, one event per line. */
export function fuzz(data: Uint8Array): Features {
  const out = new Set<string>();
  let n = 0;
  for (const line of lines(data)) {
    const r = parseEveLine(line, 'eve.json', ++n);
    if (r === undefined) continue;
    out.add('code' in r ? `issue:${r.code}` : `net:${r.kind}`);
  }
  return [...out];
}
