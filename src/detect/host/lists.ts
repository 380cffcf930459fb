import { readFileSync } from 'node:fs';
import { dataPath } from '../../core/paths.ts';
import { poolPorts } from '../pool-ports.ts';

/** The shipped data lists under data/host/, loaded once. */
function load<T>(name: string): T {
  return JSON.parse(readFileSync(dataPath('host', name), 'utf8')) as T;
}

export interface HostLists {
  poolPorts: ReadonlySet<number>;
  kernelThreadRes: RegExp[];
  windowsNames: Set<string>;
  minerNames: Set<string>;
  algorithms: Set<string>;
  coins: Set<string>;
  strongFlags: Set<string>;
  stratumSchemes: string[];
}

let cached: HostLists | undefined;

export function hostLists(): HostLists {
  if (cached) return cached;
  const masq = load<{ kernelThreadPatterns: string[]; windowsNames: string[] }>('masquerade-names.json');
  const sig = load<{
    minerNames: string[];
    algorithms: string[];
    coins: string[];
    strongFlags: string[];
    stratumSchemes: string[];
  }>('miner-signatures.json');
  cached = {
    poolPorts: poolPorts(),
    kernelThreadRes: masq.kernelThreadPatterns.map((p) => new RegExp(p)),
    windowsNames: new Set(masq.windowsNames.map((n) => n.toLowerCase())),
    minerNames: new Set(sig.minerNames),
    algorithms: new Set(sig.algorithms),
    coins: new Set(sig.coins),
    strongFlags: new Set(sig.strongFlags),
    stratumSchemes: sig.stratumSchemes,
  };
  return cached;
}
