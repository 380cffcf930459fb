import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;

/** One private temporary folder per process, removed at exit, for targets whose parser reads only paths. */
export function scratchDir(): string {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'deminer-fuzz-'));
    dir = made;
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}
