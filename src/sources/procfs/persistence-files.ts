import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readBounded } from './read-bounded.ts';
import type { CollectedFile } from './types.ts';

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

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function walkUnits(dir: string, filter: RegExp | undefined, depth: number, out: string[]): void {
  for (const name of listDir(dir)) {
    const p = join(dir, name);
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      continue;
    }
    if (isDir) {
      if (depth > 0) walkUnits(p, filter, depth - 1, out);
    } else if (!filter || filter.test(name)) out.push(p);
  }
}

export function collectPersistenceFiles(root: string): CollectedFile[] {
  const out: CollectedFile[] = [];
  const add = (path: string, kind: string) => {
    const f = readBounded(path, kind);
    if (f) out.push({ ...f, path: root === '/' ? path : `/${path.slice(root.length).replace(/^\/+/, '')}` });
  };
  for (const [rel, kind] of SINGLE) add(join(root, rel), kind);
  for (const [rel, kind, filter] of DIRS) {
    const files: string[] = [];
    // Unit directories hold *.wants/ sub-directories of symlinks: one level down is enough.
    walkUnits(join(root, rel), filter, kind === 'systemd' ? 1 : 0, files);
    for (const f of files) add(f, kind);
  }
  const homes = [join(root, 'root'), ...listDir(join(root, 'home')).map((h) => join(root, 'home', h))];
  for (const home of homes) {
    for (const [rel, kind] of HOME_FILES) add(join(home, rel), kind);
    for (const [rel, kind, filter] of HOME_DIRS) {
      const files: string[] = [];
      walkUnits(join(home, rel), filter, 1, files);
      for (const f of files) add(f, kind);
    }
  }
  return out;
}
