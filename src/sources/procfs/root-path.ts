import { lstatSync, readlinkSync, type Stats } from 'node:fs';

/** Linux gives up after 40 links (ELOOP); so do we. */
const MAX_LINKS = 40;

export interface InRoot {
  /** Canonical path below the root, no leading slash ('' is the root itself). */
  rel: string;
  /** Where that is on this machine's file system. */
  host: string;
  /** lstat of the final component (never a link). */
  stat: Stats;
}

/** `root` joined with a canonical relative path, without `path.join` collapsing anything. */
export function hostPath(root: string, rel: string): string {
  if (rel === '') return root;
  return root.endsWith('/') ? `${root}${rel}` : `${root}/${rel}`;
}

/**
 * Resolves `path` as a process chrooted at `root` would: symbolic links are
 * followed one component at a time, absolute link targets start again at
 * `root`, and `..` stops at `root`. A file system image (or a container's
 * /proc/PID/root) holds links whose targets mean something inside it only;
 * letting the kernel follow them would read this machine's files and report
 * them as the image's. Undefined when a component is missing, a link loop,
 * or a non-directory in the middle.
 *
 * Someone who can rewrite the tree while we walk it can still swap a
 * directory for a link between our lstat and the open; readers open the
 * result with O_NOFOLLOW and compare device and inode with `stat`, which
 * closes that window for the last component.
 */
export function resolveInRoot(root: string, path: string): InRoot | undefined {
  const out: string[] = [];
  // A stack of components still to walk, next one last.
  const todo = path.split('/').reverse();
  let links = 0;
  let stat: Stats | undefined;
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      out.pop();
      stat = undefined;
      continue;
    }
    out.push(c);
    const host = hostPath(root, out.join('/'));
    let st: Stats;
    try {
      st = lstatSync(host);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      let target: string;
      try {
        target = readlinkSync(host);
      } catch {
        return undefined;
      }
      out.pop();
      if (target.startsWith('/')) out.length = 0;
      const parts = target.split('/');
      for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]!);
      stat = undefined;
      continue;
    }
    if (!st.isDirectory() && todo.some((t) => t !== '' && t !== '.')) return undefined;
    stat = st;
  }
  const rel = out.join('/');
  const host = hostPath(root, rel);
  if (!stat) {
    // Ended on `..` or on the root itself: look at what we ended on.
    try {
      stat = lstatSync(host);
    } catch {
      return undefined;
    }
  }
  return { rel, host, stat };
}
