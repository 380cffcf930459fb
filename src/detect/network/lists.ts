import { readFileSync } from 'node:fs';
import { dataPath } from '../../core/paths.ts';
import { BUILTIN_POOLS, readBuiltin } from '../../intel/builtin.ts';
import { parsePlain } from '../../intel/parsers/plain.ts';
import { poolPorts } from '../pool-ports.ts';

/** The shipped network lists (data/network/*.json, each with its provenance). */
export interface NetworkLists {
  poolPorts: ReadonlySet<number>;
  /**
   * The domains of the shipped pool list (data/intel/pools.txt, the same list the
   * intel engine loads as its built-in feed), checked after the engine so that
   * the pool check holds with intel off. Each matches its subdomains.
   */
  poolDomains: ReadonlySet<string>;
  minerAgents: RegExp;
  p2pPorts: ReadonlyMap<number, string>;
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(dataPath('network', name), 'utf8')) as T;
}

let cached: NetworkLists | undefined;

export function networkLists(): NetworkLists {
  if (cached) return cached;
  const pools = parsePlain(readBuiltin(BUILTIN_POOLS), {
    source: 'deminer-pools',
    confidence: 80,
    file: 'data/intel/pools.txt',
  });
  const agents = load<{ agents: string[] }>('miner-agents.json');
  const p2p = load<{ ports: Record<string, string> }>('coin-p2p-ports.json');
  const esc = agents.agents.map((a) => a.replace(/[.*+?^${}()|[\]-]/g, '\\$&'));
  cached = {
    // One pool-port list serves the host scanner and the network analysis.
    poolPorts: poolPorts(),
    poolDomains: new Set(pools.indicators.filter((i) => i.type === 'domain').map((i) => i.value)),
    minerAgents: new RegExp(`(?:^|[^a-z0-9])(?:${esc.join('|')})(?:$|[^a-z0-9])`, 'i'),
    p2pPorts: new Map(Object.entries(p2p.ports).map(([k, v]) => [Number(k), v])),
  };
  return cached;
}
