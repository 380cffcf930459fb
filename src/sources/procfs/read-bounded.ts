import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { CollectedFile } from '../../core/host-snapshot.ts';
import { resolveInRoot } from './root-path.ts';
import type { ScanCache } from './scan-cache.ts';

const MAX_BYTES = 256 * 1024;

/**
 * O_NONBLOCK: opening a FIFO for reading blocks until a writer appears, so
 * a `mkfifo ~/.bashrc` would stall the scan forever before fstat could say
 * it is no file. O_NOFOLLOW: the path was resolved already; a link that
 * appears now is someone racing us.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** What tells a file's content unchanged: same inode, size, mtime and ctime (a write sets ctime; no one can set it back). */
function fileIdentity(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/**
 * At most `max` bytes of a regular file as text; undefined when it is missing
 * or no regular file. With a scan cache and the file's lstat (`known`), an
 * unchanged file is not opened again.
 */
export function readBounded(
  path: string,
  kind: string,
  max = MAX_BYTES,
  known?: Stats,
  cache?: ScanCache,
): CollectedFile | undefined {
  if (cache && known?.isFile()) {
    const hit = cache.files.get(path);
    if (hit && hit.max === max && hit.identity === fileIdentity(known)) {
      hit.seen = cache.scan;
      cache.counts.filesReused++;
      return { ...hit.file, kind };
    }
  }
  const r = readRegular(path, max, known);
  if (!r) return undefined;
  const file: CollectedFile = {
    path: stripProcRoot(path),
    kind,
    text: r.data.toString('utf8'),
    truncated: r.stat.size > max,
    mtime: r.stat.mtime.toISOString(),
  };
  if (cache) {
    cache.counts.filesRead++;
    const now = Date.now();
    // A file written just now could be written again within the same timestamp tick: read it next time too.
    if (now - r.stat.ctimeMs >= cache.racyMs && now - r.stat.mtimeMs >= cache.racyMs)
      cache.files.set(path, { identity: fileIdentity(r.stat), max, file: { ...file }, seen: cache.scan });
  }
  return file;
}

/**
 * The first `max` bytes of a regular file, or undefined for anything else
 * (FIFO, socket, device, directory, link) or when it cannot be read. Only
 * regular files are ever opened: lstat first (or `known`, an lstat already
 * made), and the opened descriptor is checked again, so a file swapped
 * between the two is refused too. With `scratch` (a buffer reused across
 * calls, e.g. for the hundreds of dpkg lists), files that fit are read into
 * it and `data` is a view of it, valid until the next call.
 */
export function readRegular(
  path: string,
  max: number,
  known?: Stats,
  scratch?: { buf: Buffer },
): { data: Buffer; stat: Stats } | undefined {
  let before: Stats;
  try {
    before = known ?? lstatSync(path);
  } catch {
    return undefined;
  }
  if (!before.isFile()) return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path, OPEN_FLAGS);
    const st = fstatSync(fd);
    if (!st.isFile() || st.dev !== before.dev || st.ino !== before.ino) return undefined;
    const len = Math.min(st.size, max);
    if (scratch && scratch.buf.length < len)
      scratch.buf = Buffer.allocUnsafe(Math.max(len, scratch.buf.length * 2));
    const buf = scratch ? scratch.buf : Buffer.alloc(len);
    let n = 0;
    while (n < len) {
      const got = readSync(fd, buf, n, len - n, n);
      if (got === 0) break;
      n += got;
    }
    return { data: buf.subarray(0, n), stat: st };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads `path` of the tree at `root` as that tree sees it (links resolved
 * inside it, see resolveInRoot), reported as `/path`.
 */
export function readInRoot(
  root: string,
  path: string,
  kind: string,
  max = MAX_BYTES,
  cache?: ScanCache,
): CollectedFile | undefined {
  const r = resolveInRoot(root, path);
  if (!r) return undefined;
  const f = readBounded(r.host, kind, max, r.stat, cache);
  if (!f) return undefined;
  return { ...f, path: `/${path.replace(/^\/+/, '')}` };
}

/** `/proc/123/root/etc/x` → `/etc/x` for reporting. */
function stripProcRoot(path: string): string {
  const m = /^.*?\/\d+\/root(\/.*)$/.exec(path);
  return m ? m[1]! : path;
}
