import { createReadStream, statSync } from 'node:fs';
import type { ParseIssue } from '../core/errors.ts';
import { UsageError } from '../core/errors.ts';

/** One value per line of a list the user gave (`--file`), with where it was. */
export interface ListLine {
  value: string;
  location: string;
}

export interface ListReadOptions {
  /** Longest line taken, in characters; longer lines are reported and skipped (default 4096). */
  maxLine?: number;
}

/**
 * The values of a list file, one per line (`#` comments and blank lines
 * skipped); `-` is stdin. The file must be a readable regular file (or a
 * pipe): a missing path or a folder is a usage error. Reads in chunks, so a
 * 50 MB line costs no more memory than the cap; lines that are too long or
 * hold binary (NUL or other C0 bytes than tab) are problems with their line
 * number, skipped, never echoed.
 */
export async function* readListLines(
  file: string,
  problem: (i: ParseIssue) => void,
  opts: ListReadOptions = {},
): AsyncGenerator<ListLine> {
  const maxLine = opts.maxLine ?? 4096;
  const where = file === '-' ? '<stdin>' : file;
  if (file !== '-') {
    let isDir = false;
    try {
      isDir = statSync(file).isDirectory();
    } catch {
      throw new UsageError('LIST_MISSING', 'no such file', { location: file });
    }
    if (isDir) throw new UsageError('LIST_IS_FOLDER', 'a folder, not a file of values', { location: file });
  }
  const stream = file === '-' ? process.stdin : createReadStream(file);
  stream.setEncoding('utf8');
  let line = 1;
  let current = '';
  let overlong = false;
  const finish = (): ListLine | undefined => {
    const at = `${where}:${line}`;
    const text = current;
    current = '';
    const wasLong = overlong;
    overlong = false;
    if (wasLong) {
      problem({
        code: 'LIST_LINE_TOO_LONG',
        message: `longer than ${maxLine} characters; skipped`,
        location: at,
      });
      return undefined;
    }
    const v = text.endsWith('\r') ? text.slice(0, -1) : text;
    const trimmed = v.trim();
    if (!trimmed || trimmed.startsWith('#')) return undefined;
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(trimmed)) {
      problem({ code: 'LIST_BINARY_LINE', message: 'holds control or binary bytes; skipped', location: at });
      return undefined;
    }
    return { value: trimmed, location: at };
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf('\n', start);
        const piece = nl === -1 ? chunk.slice(start) : chunk.slice(start, nl);
        if (!overlong) {
          if (current.length + piece.length > maxLine + 1) {
            overlong = true;
            current = '';
          } else current += piece;
        }
        if (nl === -1) break;
        const got = finish();
        if (got) yield got;
        line++;
        start = nl + 1;
      }
    }
  } catch (e) {
    throw new UsageError('LIST_UNREADABLE', `cannot read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      location: where,
    });
  }
  if (current || overlong) {
    const got = finish();
    if (got) yield got;
  }
}
