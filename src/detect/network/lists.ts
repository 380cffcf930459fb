import { readFileSync } from 'node:fs';
import { dataPath } from '../../core/paths.ts';
import { poolPorts } from '../pool-ports.ts';

/** The shipped network lists (data/network/*.json, each with its provenance). */
export interface NetworkLists {
  poolPorts: ReadonlySet<number>;
  /** The built-in list of pool domains the shipped intel feed lacks (checked after the engine). */
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
  const domains = load<{ domains: string[] }>('pool-domains.json');
  const agents = load<{ agents: string[] }>('miner-agents.json');
  const p2p = load<{ ports: Record<string, string> }>('coin-p2p-ports.json');
  const esc = agents.agents.map((a) => a.replace(/[.*+?^${}()|[\]-]/g, '\\$&'));
  cached = {
    // One pool-port list serves the host scanner and the network analysis.
    poolPorts: poolPorts(),
    poolDomains: new Set(domains.domains.map((d) => d.toLowerCase())),
    minerAgents: new RegExp(`(?:^|[^a-z0-9])(?:${esc.join('|')})(?:$|[^a-z0-9])`, 'i'),
    p2pPorts: new Map(Object.entries(p2p.ports).map(([k, v]) => [Number(k), v])),
  };
  return cached;
}
