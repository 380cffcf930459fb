import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Files shipped in data/intel (see data/intel/PROVENANCE.md). */
export const BUILTIN_POOLS = fileURLToPath(new URL('../../../data/intel/pools.txt', import.meta.url));
export const BUILTIN_ALLOW = fileURLToPath(new URL('../../../data/intel/cdn-allow.txt', import.meta.url));

export const BUILTIN_POOLS_SOURCE = 'deminer-pools';
export const BUILTIN_ALLOW_SOURCE = 'deminer-cdn-allow';

export function readBuiltin(file: string): string {
  return readFileSync(file, 'utf8');
}
