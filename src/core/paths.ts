import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root folder, found by walking up from this module to the
 * nearest package.json, so that shipped files (data/, rules/) resolve the same
 * from the TypeScript sources and from the bundled dist/ build.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('deminer: cannot find the package root (package.json beside data/)');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

/** A file shipped under data/. */
export function dataPath(...parts: string[]): string {
  return join(PACKAGE_ROOT, 'data', ...parts);
}

/** A shipped path relative to the package root (rules/, …). */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
