import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { CollectedFile } from './types.ts';

const MAX_BYTES = 256 * 1024;

/** Reads at most `max` bytes of a regular file; undefined when it is missing or not a file. */
export function readBounded(path: string, kind: string, max = MAX_BYTES): CollectedFile | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const len = Math.min(st.size, max);
    const buf = Buffer.alloc(len);
    const n = readSync(fd, buf, 0, len, 0);
    return {
      path: stripProcRoot(path),
      kind,
      text: buf.subarray(0, n).toString('utf8'),
      truncated: st.size > max,
      mtime: st.mtime.toISOString(),
    };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `/proc/123/root/etc/x` → `/etc/x` for reporting. */
function stripProcRoot(path: string): string {
  const m = /^.*?\/\d+\/root(\/.*)$/.exec(path);
  return m ? m[1]! : path;
}
