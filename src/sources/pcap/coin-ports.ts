import { readFileSync } from 'node:fs';
import { dataPath } from '../../core/paths.ts';

let cached: ReadonlyMap<number, string> | undefined;

/**
 * Default peer-to-peer ports of coin daemons (data/network/coin-p2p-ports.json,
 * provenance inside): a new flow to one is observed as coin P2P traffic.
 */
export function coinP2pPorts(): ReadonlyMap<number, string> {
  if (cached) return cached;
  const data = JSON.parse(readFileSync(dataPath('network', 'coin-p2p-ports.json'), 'utf8')) as {
    ports: Record<string, string>;
  };
  cached = new Map(Object.entries(data.ports).map(([k, v]) => [Number(k), v]));
  return cached;
}
