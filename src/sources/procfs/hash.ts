import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * SHA-256 of a process's executable, read through /proc/PID/exe so that
 * deleted binaries can still be hashed. Cached by device+inode+mtime+size, so
 * the same binary run by many processes is read once.
 */
const cache = new Map<string, string>();
/** Binaries remembered; the oldest answer goes first past it. */
const MAX_CACHED = 4096;
const buf = Buffer.allocUnsafe(1 << 20);

export function hashExecutable(procExePath: string, maxBytes = 512 * 1024 * 1024): string | undefined {
  let fd: number;
  try {
    fd = openSync(procExePath, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) return undefined;
    const key = `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const h = createHash('sha256');
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
    const digest = h.digest('hex');
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(key, digest);
    return digest;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
