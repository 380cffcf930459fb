import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRegular } from './read-bounded.ts';
import { resolveInRoot } from './root-path.ts';

const MAX_LIST_BYTES = 64 * 1024 * 1024;
/** Answers remembered between scans (a long-running agent meets new paths all the time). */
const MAX_ANSWERS = 65_536;
/** List numbers fit in the low bits of an index key (hash × 2^20 + list number stays below 2^53). */
const MAX_LISTS = 1 << 20;

/**
 * Which installed package owns an executable: our Linux stand-in for
 * "signed". dpkg keeps one file list per package and no path index. We
 * read the lists once into a compact index of line hashes (about 8 bytes a
 * packaged path, kept while the list directory's mtime holds), so a path
 * costs a binary search plus reading the one or two lists whose lines hash
 * alike, which confirm it byte for byte: answers are those of searching
 * every list in directory order for the path as a whole line. Answers are
 * also remembered per path. RPM keeps its database in SQLite/Berkeley DB
 * files that need a database library; on RPM systems ownership stays
 * unknown (undefined).
 */
export interface PackageOwners {
  /** Package name, `null` when dpkg does not list the file, undefined when there is no dpkg database. */
  get(path: string): string | null | undefined;
}

interface ListIndex {
  dir: string;
  mtimeMs: number;
  /** *.list files in directory order. */
  names: string[];
  /** Sorted: FNV-1a hash of a line × 2^20 + the number of the list holding it. */
  keys: Float64Array;
  answers: Map<string, string | null>;
}

let remembered: ListIndex | undefined;

function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

function buildIndex(dir: string, mtimeMs: number): ListIndex {
  let all: string[] = [];
  try {
    all = readdirSync(dir);
  } catch {
    // An unreadable dpkg database answers "not listed" for everything, as an empty one would.
  }
  const names = all.filter((n) => n.endsWith('.list')).slice(0, MAX_LISTS);
  let keys = new Float64Array(1 << 16);
  let n = 0;
  // One buffer for all lists: hundreds of short-lived allocations would leave the malloc heap fragmented.
  const scratch = { buf: Buffer.allocUnsafe(1 << 16) };
  for (let id = 0; id < names.length; id++) {
    // Regular files only (a FIFO would block), and a list larger than any real one is cut.
    const list = readRegular(join(dir, names[id]!), MAX_LIST_BYTES, undefined, scratch);
    if (!list) continue;
    const buf = list.data;
    let start = 0;
    for (let i = 0; i <= buf.length; i++) {
      if (i < buf.length && buf[i] !== 10) continue;
      if (i > start) {
        if (n === keys.length) {
          const bigger = new Float64Array(keys.length * 2);
          bigger.set(keys);
          keys = bigger;
        }
        keys[n++] = fnv1a(buf, start, i) * MAX_LISTS + id;
      }
      start = i + 1;
    }
  }
  keys = keys.slice(0, n).sort();
  return { dir, mtimeMs, names, keys, answers: new Map() };
}

/** Numbers of the lists holding a line with this hash, ascending (directory order). */
function candidates(index: ListIndex, hash: number, out: Set<number>): void {
  const keys = index.keys;
  const lowest = hash * MAX_LISTS;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < lowest) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < keys.length && keys[i]! < lowest + MAX_LISTS; i++) out.add(keys[i]! - lowest);
}

function lookUp(index: ListIndex, path: string): string | null {
  const needles: Buffer[] = [];
  const ids = new Set<number>();
  for (const v of [path, mergedUsrAlias(path)]) {
    const needle = Buffer.from(`\n${v}\n`, 'latin1');
    needles.push(needle);
    candidates(index, fnv1a(needle, 1, needle.length - 1), ids);
  }
  for (const id of [...ids].sort((a, b) => a - b)) {
    const name = index.names[id]!;
    const list = readRegular(join(index.dir, name), MAX_LIST_BYTES);
    if (!list) continue;
    const buf = list.data;
    // Lists start with "/." so every real path has a newline before it.
    for (const needle of needles)
      if (buf.indexOf(needle) >= 0 || (buf.length >= needle.length - 1 && endsWithLine(buf, needle)))
        return name.slice(0, -5).split(':')[0]!;
  }
  return null;
}

export function findPackageOwners(paths: Iterable<string>, root = '/'): PackageOwners {
  // Resolved inside the root: an image's links must not lead to this host's database.
  const at = resolveInRoot(root, 'var/lib/dpkg/info');
  if (!at || !at.stat.isDirectory()) return { get: () => undefined };
  const dir = at.host;
  const mtimeMs = at.stat.mtimeMs;
  let index = remembered?.dir === dir && remembered.mtimeMs === mtimeMs ? remembered : undefined;
  const distinct = [...new Set(paths)];
  if (index && index.answers.size + distinct.length > MAX_ANSWERS) index.answers.clear();
  const wanted = index ? distinct.filter((p) => !index!.answers.has(p)) : distinct;
  if (wanted.length > 0) {
    index ??= buildIndex(dir, mtimeMs);
    remembered = index;
    for (const p of wanted) index.answers.set(p, lookUp(index, p));
  }
  const answers = index?.answers;
  return { get: (p) => answers?.get(p) };
}

function endsWithLine(buf: Buffer, needle: Buffer): boolean {
  // The last line of a list may lack its trailing newline.
  const body = needle.subarray(0, needle.length - 1);
  return buf.subarray(buf.length - body.length).equals(body);
}

/** On merged-/usr systems dpkg may list /bin/x while the kernel reports /usr/bin/x (and vice versa). */
function mergedUsrAlias(path: string): string {
  if (path.startsWith('/usr/')) return path.slice(4);
  return `/usr${path}`;
}
