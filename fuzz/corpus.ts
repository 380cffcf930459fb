import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Seed corpus and regression inputs of a target, relative to the checkout. */
export function inputDirs(root: string, target: string): string[] {
  return [join(root, 'fuzz', 'seeds', target), join(root, 'test', 'fixtures', 'fuzz', target)];
}

/** The files of the given folders (missing folders are empty), sorted by name for repeatable runs; `skipOpen` leaves out `open-*` bug reproducers. */
export function readInputs(dirs: readonly string[], skipOpen = false): { file: string; data: Uint8Array }[] {
  const out: { file: string; data: Uint8Array }[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = join(dir, name);
      // `open-*` files reproduce bugs not fixed yet: as seeds they would stop every run at once.
      if (!statSync(file).isFile() || name.endsWith('.md') || name === 'SOURCES.txt') continue;
      if (skipOpen && name.startsWith('open-')) continue;
      out.push({ file, data: readFileSync(file) });
    }
  }
  return out;
}
