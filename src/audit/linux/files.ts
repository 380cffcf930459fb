import { closeSync, constants, openSync, readdirSync, readSync } from 'node:fs';
import { readRegular } from '../../sources/procfs/read-bounded.ts';
import { resolveInRoot } from '../../sources/procfs/root-path.ts';

/** Largest config file read (sudoers, group, audit rules, mounts). */
export const MAX_FILE = 1024 * 1024;
/** Most entries listed in one folder (sudoers.d, rules.d, sysctl.d, apt.conf.d). */
export const MAX_DIR = 1000;

export interface RootText {
  /** The path as the host names it (`/etc/sudoers`). */
  path: string;
  text: string;
}

/** `path` of the tree at `root`, resolved inside it (links never lead out), read bounded; undefined when missing. */
export function readRootFile(root: string, path: string, max = MAX_FILE): RootText | undefined {
  const r = resolveInRoot(root, path);
  if (!r?.stat.isFile()) return undefined;
  const got = readRegular(r.host, max, r.stat);
  if (!got) return undefined;
  return { path: `/${r.rel}`, text: got.data.toString('utf8') };
}

/** The raw bytes (efivars). */
export function readRootBytes(root: string, path: string, max = 4096): Buffer | undefined {
  const r = resolveInRoot(root, path);
  if (!r?.stat.isFile()) return undefined;
  return readRegular(r.host, max, r.stat)?.data;
}

/** Names in a folder of the tree (sorted, bounded); undefined when it is no folder. */
export function listRootDir(root: string, path: string): string[] | undefined {
  const r = resolveInRoot(root, path);
  if (!r?.stat.isDirectory()) return undefined;
  try {
    return readdirSync(r.host).sort().slice(0, MAX_DIR);
  } catch {
    return undefined;
  }
}

/** Where `path` of the tree is on this machine, and its canonical in-tree path. */
export function locateInRoot(
  root: string,
  path: string,
): { host: string; rel: string; dir: boolean } | undefined {
  const r = resolveInRoot(root, path);
  return r ? { host: r.host, rel: `/${r.rel}`, dir: r.stat.isDirectory() } : undefined;
}

export function existsInRoot(root: string, path: string): boolean {
  return resolveInRoot(root, path) !== undefined;
}

/** Lines of a text without CR. */
export function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Whitespace-separated words, by scanning (no regex on file content). */
export function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of line) {
    if (c === ' ' || c === '\t') {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** `path` without trailing slashes (a loop: a regex here would be quadratic on a line of slashes). */
export function trimSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  return path.slice(0, end);
}

/**
 * A file of this machine's /proc or /sys, read until EOF up to `max` bytes:
 * those files say size 0, so a reader that trusts the size reads nothing.
 */
export function readPseudoFile(path: string, max = MAX_FILE): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < max) {
      const buf = Buffer.alloc(Math.min(65536, max - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
