import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which installed package owns an executable: our Linux stand-in for
 * "signed". dpkg keeps one file list per package and no path index, so we
 * search the lists for just the executables a scan needs (a byte search per
 * list is several times cheaper than indexing every packaged path), and
 * remember answers per list directory mtime for later scans in the same
 * process. RPM keeps its database in SQLite/Berkeley DB files that need a
 * database library; on RPM systems ownership stays unknown (undefined).
 */
export interface PackageOwners {
  /** Package name, `null` when dpkg does not list the file, undefined when there is no dpkg database. */
  get(path: string): string | null | undefined;
}

let remembered: { dir: string; mtimeMs: number; answers: Map<string, string | null> } | undefined;

export function findPackageOwners(paths: Iterable<string>, root = '/'): PackageOwners {
  const dir = join(root, 'var/lib/dpkg/info');
  let mtimeMs: number;
  try {
    mtimeMs = statSync(dir).mtimeMs;
  } catch {
    return { get: () => undefined };
  }
  if (!remembered || remembered.dir !== dir || remembered.mtimeMs !== mtimeMs) {
    remembered = { dir, mtimeMs, answers: new Map() };
  }
  const answers = remembered.answers;
  const wanted = [...new Set(paths)].filter((p) => !answers.has(p));
  if (wanted.length > 0) {
    for (const p of wanted) answers.set(p, null);
    const needles = wanted.flatMap((p) =>
      [p, mergedUsrAlias(p)].map((v) => ({ path: p, needle: Buffer.from(`\n${v}\n`, 'latin1') })),
    );
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // An unreadable dpkg database answers "not listed" for everything, as an empty one would.
    }
    for (const name of names) {
      if (!name.endsWith('.list')) continue;
      let buf: Buffer;
      try {
        buf = readFileSync(join(dir, name));
      } catch {
        continue;
      }
      const pkg = name.slice(0, -5).split(':')[0]!;
      for (const { path, needle } of needles) {
        if (answers.get(path) !== null) continue;
        // Lists start with "/." so every real path has a newline before it.
        if (buf.indexOf(needle) >= 0 || (buf.length >= needle.length - 1 && endsWithLine(buf, needle)))
          answers.set(path, pkg);
      }
    }
  }
  return { get: (p) => answers.get(p) };
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
