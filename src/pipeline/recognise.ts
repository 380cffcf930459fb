import type { ParseIssue } from '../core/errors.ts';
import { describeError } from '../core/errors.ts';
import type { Source } from '../core/stages.ts';
import { sourceFor } from '../sources/registry.ts';
import { readHead } from './read-head.ts';
import type { InputFile } from './walk.ts';

/**
 * The source that reads `file`, found from its first bytes: undefined when it
 * cannot be read (reported), `'unknown'` when no source knows it (reported
 * only for files named on the command line; walked folders hold all sorts).
 * One place for every command that takes inputs (hunt, sniff, search, metrics).
 */
export function recognise(
  file: InputFile,
  sources: readonly Source[],
  issue: (i: ParseIssue) => void,
): Source | 'unknown' | undefined {
  let source: Source | undefined;
  try {
    source = sourceFor(readHead(file.path), file.path, sources);
  } catch (e) {
    issue({ code: 'HUNT_UNREADABLE', message: describeError(e), location: file.path });
    return undefined;
  }
  if (source) return source;
  if (file.explicit)
    issue({
      code: 'HUNT_UNKNOWN_INPUT',
      message: `not a kind of input deminer reads (${sources.map((k) => k.name).join(', ')})`,
      location: file.path,
    });
  return 'unknown';
}
