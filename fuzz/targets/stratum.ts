import { parseMiningLine } from '../../src/sources/protocols/mining-protocol.ts';
import { type Features, lines } from '../expected.ts';

/** Stratum / getblocktemplate JSON-RPC, one message per line as pools send them. */
export function fuzz(data: Uint8Array): Features {
  const out = new Set<string>();
  for (const line of lines(data)) {
    const m = parseMiningLine(line);
    if (m) out.add(`mining:${JSON.stringify(Object.keys(m))}`);
  }
  return [...out];
}
