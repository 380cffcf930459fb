import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParseIssue } from '../core/errors.ts';

export interface InputFile {
  path: string;
  size: number;
  /** Named on the command line (an unknown kind is then worth a warning), not found in a folder. */
  explicit: boolean;
}

/** Expands files and folders (recursively, sorted, hidden entries skipped) into input files. */
export async function walkInputs(
  paths: readonly string[],
): Promise<{ files: InputFile[]; issues: ParseIssue[] }> {
  const files: InputFile[] = [];
  const issues: ParseIssue[] = [];
  const visit = async (p: string, explicit: boolean): Promise<void> => {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch (e) {
      issues.push({
        code: 'HUNT_UNREADABLE',
        message: (e as NodeJS.ErrnoException).code ?? 'cannot stat',
        location: p,
      });
      return;
    }
    if (st.isDirectory()) {
      let entries: string[];
      try {
        entries = (await readdir(p)).sort();
      } catch (e) {
        issues.push({
          code: 'HUNT_UNREADABLE',
          message: (e as NodeJS.ErrnoException).code ?? 'cannot list',
          location: p,
        });
        return;
      }
      for (const e of entries) if (!e.startsWith('.')) await visit(join(p, e), false);
    } else if (st.isFile()) files.push({ path: p, size: st.size, explicit });
  };
  for (const p of paths) await visit(p, true);
  return { files, issues };
}
