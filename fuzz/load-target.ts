import { basename, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FuzzTarget } from './expected.ts';

/**
 * A target is a name of `targets/index.ts` or the path of a module exporting
 * `fuzz(data)` (how the engine's own tests bring a synthetic target).
 */
export function isTargetFile(target: string): boolean {
  return target.includes('/') || /\.(ts|mts|js|mjs)$/.test(target);
}

/** Name of a target's findings folder. */
export function targetLabel(target: string): string {
  return isTargetFile(target) ? basename(target, extname(target)) : target;
}

/** Imported lazily: in the fuzzing worker, code under test must load after coverage has started. */
export async function loadTarget(target: string): Promise<FuzzTarget> {
  if (isTargetFile(target)) {
    const mod = (await import(pathToFileURL(resolve(target)).href)) as { fuzz?: unknown };
    if (typeof mod.fuzz !== 'function') throw new Error(`${target} does not export fuzz(data)`);
    return mod.fuzz as FuzzTarget;
  }
  const { TARGETS } = await import('./targets/index.ts');
  const fn = TARGETS[target];
  if (!fn) throw new Error(`unknown fuzz target ${target}; known: ${Object.keys(TARGETS).join(', ')}`);
  return fn;
}
