import { lstatSync, readdirSync, type Stats } from 'node:fs';
import type { CollectedFile } from '../../core/host-snapshot.ts';
import { readBounded } from './read-bounded.ts';
import { hostPath, type InRoot, resolveInRoot } from './root-path.ts';
import type { ScanCache } from './scan-cache.ts';

/**
 * Linux persistence locations miners use (cron, systemd, rc.local,
 * ld.so.preload, shell start files, SSH authorized_keys), read under `root`
 * so a mounted image or a test root can be scanned. Missing files are normal.
 */
const SINGLE: [string, string][] = [
  ['etc/crontab', 'cron'],
  ['etc/rc.local', 'rc-local'],
  ['etc/ld.so.preload', 'ld-preload'],
  ['etc/profile', 'shell-rc'],
  ['etc/bash.bashrc', 'shell-rc'],
  ['etc/zsh/zshrc', 'shell-rc'],
  ['etc/environment', 'shell-rc'],
];

const DIRS: [string, string, RegExp | undefined][] = [
  ['etc/cron.d', 'cron', undefined],
  ['etc/cron.hourly', 'cron', undefined],
  ['etc/cron.daily', 'cron', undefined],
  ['etc/cron.weekly', 'cron', undefined],
  ['etc/cron.monthly', 'cron', undefined],
  ['var/spool/cron', 'cron', undefined],
  ['var/spool/cron/crontabs', 'cron', undefined],
  ['etc/profile.d', 'shell-rc', undefined],
  ['etc/init.d', 'init-script', undefined],
  ['etc/systemd/system', 'systemd', /\.(service|timer|socket|path)$/],
  ['run/systemd/system', 'systemd', /\.(service|timer)$/],
  ['etc/xdg/autostart', 'autostart', /\.desktop$/],
];

const HOME_FILES: [string, string][] = [
  ['.bashrc', 'shell-rc'],
  ['.bash_profile', 'shell-rc'],
  ['.bash_login', 'shell-rc'],
  ['.profile', 'shell-rc'],
  ['.zshrc', 'shell-rc'],
  ['.ssh/authorized_keys', 'authorized-keys'],
  ['.ssh/authorized_keys2', 'authorized-keys'],
];

const HOME_DIRS: [string, string, RegExp | undefined][] = [
  ['.config/systemd/user', 'systemd', /\.(service|timer)$/],
  ['.config/autostart', 'autostart', /\.desktop$/],
];

/** Entries of a directory of the tree at `root`, resolved inside it. */
function listDir(root: string, rel: string): { rel: string; names: string[] } | undefined {
  const r = resolveInRoot(root, rel);
  if (!r || !r.stat.isDirectory()) return undefined;
  try {
    return { rel: r.rel, names: readdirSync(r.host) };
  } catch {
    return undefined;
  }
}

/**
 * An entry of a directory already resolved inside the root (`dirRel` is
 * canonical: no links, every component a directory): one lstat unless the
 * entry is itself a link, which resolveInRoot follows as a chroot would.
 */
function childInRoot(root: string, dirRel: string, name: string): InRoot | undefined {
  const rel = dirRel === '' ? name : `${dirRel}/${name}`;
  const host = hostPath(root, rel);
  let stat: Stats;
  try {
    stat = lstatSync(host);
  } catch {
    return undefined;
  }
  return stat.isSymbolicLink() ? resolveInRoot(root, rel) : { rel, host, stat };
}

/** Files under `rel` as [path shown (the name in the tree), where the content is]. */
function walkUnits(
  root: string,
  shown: string,
  rel: string,
  filter: RegExp | undefined,
  depth: number,
  out: [string, InRoot][],
): void {
  const dir = listDir(root, rel);
  if (!dir) return;
  for (const name of dir.names) {
    const r = childInRoot(root, dir.rel, name);
    if (!r) continue;
    if (r.stat.isDirectory()) {
      if (depth > 0) walkUnits(root, `${shown}/${name}`, r.rel, filter, depth - 1, out);
    } else if (!filter || filter.test(name)) out.push([`${shown}/${name}`, r]);
  }
}

/**
 * Every path is resolved inside `root` as a chroot would (links included),
 * so an image's links never lead to this machine's files, and only regular
 * files are opened (a FIFO would block the scan). With a scan cache, files
 * whose inode, size and times are unchanged are not read again.
 */
export function collectPersistenceFiles(root: string, cache?: ScanCache): CollectedFile[] {
  const out: CollectedFile[] = [];
  const add = (shown: string, kind: string, at?: InRoot) => {
    const r = at ?? resolveInRoot(root, shown);
    if (!r) return;
    const f = readBounded(r.host, kind, undefined, r.stat, cache);
    if (f) out.push({ ...f, path: `/${shown}` });
  };
  const addDir = (rel: string, kind: string, filter: RegExp | undefined, depth: number) => {
    const files: [string, InRoot][] = [];
    walkUnits(root, rel, rel, filter, depth, files);
    for (const [shown, r] of files) add(shown, kind, r);
  };
  for (const [rel, kind] of SINGLE) add(rel, kind);
  // Unit directories hold *.wants/ sub-directories of symlinks: one level down is enough.
  for (const [rel, kind, filter] of DIRS) addDir(rel, kind, filter, kind === 'systemd' ? 1 : 0);
  const homes = ['root', ...(listDir(root, 'home')?.names ?? []).map((h) => `home/${h}`)];
  for (const home of homes) {
    for (const [rel, kind] of HOME_FILES) add(`${home}/${rel}`, kind);
    for (const [rel, kind, filter] of HOME_DIRS) addDir(`${home}/${rel}`, kind, filter, 1);
  }
  return out;
}
