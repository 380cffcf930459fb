import { readFileSync } from 'node:fs';
import { dataPath } from '../core/paths.ts';

/** Files shipped in data/intel (see data/intel/PROVENANCE.md). */
export const BUILTIN_POOLS = dataPath('intel', 'pools.txt');
export const BUILTIN_ALLOW = dataPath('intel', 'cdn-allow.txt');

export const BUILTIN_POOLS_SOURCE = 'deminer-pools';
export const BUILTIN_ALLOW_SOURCE = 'deminer-cdn-allow';

export function readBuiltin(file: string): string {
  return readFileSync(file, 'utf8');
}
