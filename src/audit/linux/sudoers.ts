import { lines, listRootDir, readRootFile, trimSlashes, words } from './files.ts';

/** Most sudoers files followed through includes, and how deep. */
const MAX_FILES = 200;
const MAX_DEPTH = 8;

/** Commands that amount to root: a shell, su, or a package manager (installs anything as root). */
const ROOT_COMMANDS = new Set([
  'all',
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'fish',
  'su',
  'sudo',
  'env',
  'apt',
  'apt-get',
  'aptitude',
  'dpkg',
  'yum',
  'dnf',
  'rpm',
  'zypper',
  'pacman',
  'snap',
  'pip',
  'pip3',
  'npm',
]);

export interface SudoGrant {
  principal: string;
  command: string;
  /** `file:line`. */
  where: string;
}

/** `a , b` → `a,b`: spaces around commas go, so that a user list is one word. */
function tightenCommas(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') {
      let j = i;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      if (s[j] === ',' || out.endsWith(',')) {
        i = j - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** The line without its comment (`#` not followed by a digit, which is a uid). */
function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '#') continue;
    const next = line[i + 1] ?? '';
    if (next >= '0' && next <= '9') continue;
    return line.slice(0, i);
  }
  return line;
}

function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return (i >= 0 ? p.slice(i + 1) : p).toLowerCase();
}

/**
 * Rules of sudoers (and its includes) that let a principal run as root a
 * command from ROOT_COMMANDS (or ALL). Aliases are reported by name.
 */
export function sudoGrants(root: string): { grants: SudoGrant[]; files: string[] } {
  const grants: SudoGrant[] = [];
  const seen = new Set<string>();
  const files: string[] = [];
  const visit = (path: string, depth: number): void => {
    if (depth > MAX_DEPTH || seen.size >= MAX_FILES || seen.has(path)) return;
    seen.add(path);
    const f = readRootFile(root, path);
    if (!f) return;
    files.push(f.path);
    const ls = lines(f.text);
    for (let i = 0; i < ls.length; i++) {
      const lineNo = i + 1;
      let line = ls[i]!;
      while (line.endsWith('\\') && i + 1 < ls.length) line = line.slice(0, -1) + ls[++i]!;
      const t = line.trim();
      const lower = t.toLowerCase();
      if (lower.startsWith('#includedir') || lower.startsWith('@includedir')) {
        const dir = t.slice(t.indexOf('dir') + 3).trim();
        for (const name of listRootDir(root, dir) ?? []) {
          // sudo skips names with a dot or ending in ~ (editor and package leftovers).
          if (name.includes('.') || name.endsWith('~')) continue;
          visit(`${trimSlashes(dir)}/${name}`, depth + 1);
        }
        continue;
      }
      if (lower.startsWith('#include') || lower.startsWith('@include')) {
        let inc = t.slice(8).trim();
        if (!inc.startsWith('/')) inc = `${path.slice(0, path.lastIndexOf('/'))}/${inc}`;
        visit(inc, depth + 1);
        continue;
      }
      const body = stripComment(t).trim();
      if (!body) continue;
      const first = words(body)[0] ?? '';
      if (first.startsWith('Defaults') || first.endsWith('_Alias')) continue;
      const eq = body.indexOf('=');
      if (eq <= 0) continue;
      const left = words(tightenCommas(body.slice(0, eq)));
      if (left.length < 2) continue;
      const users = left[0]!.split(',').filter((u) => u && !u.startsWith('!'));
      let right = body.slice(eq + 1).trim();
      let runas = 'root';
      if (right.startsWith('(')) {
        const close = right.indexOf(')');
        if (close < 0) continue;
        runas = right.slice(1, close).split(':')[0]!.trim() || 'root';
        right = right.slice(close + 1).trim();
      }
      const runsAsRoot = runas
        .split(',')
        .some((r) => r.trim().toLowerCase() === 'all' || r.trim() === 'root');
      if (!runsAsRoot) continue;
      for (const spec of right.split(',')) {
        // Tags (NOPASSWD:, SETENV:, …) come before the command.
        const cmd = words(spec).find((w) => !w.endsWith(':'));
        if (!cmd || !ROOT_COMMANDS.has(basename(cmd))) continue;
        for (const u of users) grants.push({ principal: u, command: cmd, where: `${f.path}:${lineNo}` });
        break;
      }
    }
  };
  visit('/etc/sudoers', 0);
  return { grants, files };
}
