import { hostname } from 'node:os';
import type { Fact, FactReader, ReadSpec } from '../types.ts';
import { runTool } from './exec.ts';
import {
  existsInRoot,
  lines,
  listRootDir,
  locateInRoot,
  readPseudoFile,
  readRootBytes,
  readRootFile,
  trimSlashes,
  words,
} from './files.ts';
import { sudoGrants } from './sudoers.ts';

/** Where getcap looks for binaries with file capabilities (the whole disk would take minutes). */
const CAP_DIRS = [
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local',
  '/usr/libexec',
  '/opt',
  '/tmp',
  '/var/tmp',
  '/dev/shm',
  '/home',
  '/root',
  '/srv',
];
const EFI_SECURE_BOOT = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';
/**
 * Most items kept in one observed list, a bound on memory only: the engine
 * cuts a result's list to MAX_OBSERVED_ITEMS and says how many there were.
 */
const MAX_ITEMS = 100_000;

/**
 * Sysctls whose absence says something, once the tree shows the running
 * kernel's settings (/proc/sys/kernel is there): the file is missing because
 * the kernel lacks the feature, not because nobody collected it.
 */
const ABSENT_SYSCTLS: Readonly<Record<string, { also: string; fact: Omit<Fact, 'source'> }>> = {
  // A kernel built without module support (CONFIG_MODULES=n) has neither: nothing can be loaded.
  'kernel.modules_disabled': {
    also: '/proc/modules',
    fact: {
      value: 'no module support',
      status: 'not_applicable',
      note: 'this kernel cannot load modules at all (no /proc/modules)',
    },
  },
  // Yama registers kernel.yama.* only when it is an active LSM. Without it ptrace
  // is limited by the classic checks alone (same uid, dumpable, or CAP_SYS_PTRACE):
  // what ptrace_scope 0 allows, whatever sysctl.d says.
  'kernel.yama.ptrace_scope': {
    also: '/proc/sys/kernel/yama',
    fact: {
      value: 'Yama not enabled',
      status: 'fail',
      note: 'ptrace is not restricted by Yama: any process may attach to others of its user, as with ptrace_scope 0',
    },
  },
};

function argList(spec: ReadSpec): string[] {
  return Array.isArray(spec.arg) ? spec.arg : [spec.arg];
}

/** Octal escapes of /proc/mounts (`\040` for a space). */
function unescapeMount(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      out += String.fromCharCode(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else out += s[i];
  }
  return out;
}

/**
 * Reads a Linux host's posture: the live host (`root` = '/', `live`) or a
 * collected folder / mounted image (`root` = that folder), never outside it.
 * Values that only the running system knows (pending updates, `auditctl -l`,
 * mokutil) are asked of it only when live.
 */
export class LinuxFacts implements FactReader {
  private readonly cache = new Map<string, Fact | undefined>();
  private capLines: { lines: string[]; note?: string } | undefined;

  constructor(
    readonly root: string,
    readonly live: boolean,
  ) {}

  hostName(): string {
    const f = readRootFile(this.root, '/etc/hostname', 4096);
    const name = f ? f.text.split('\n')[0]!.trim() : '';
    if (name) return name;
    return this.live ? hostname() : (trimSlashes(this.root).split('/').pop() ?? 'root');
  }

  read(spec: ReadSpec): Fact | undefined {
    const key = `${spec.method}\0${argList(spec).join(',')}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const f = this.compute(spec);
    this.cache.set(key, f);
    return f;
  }

  private compute(spec: ReadSpec): Fact | undefined {
    const args = argList(spec);
    switch (spec.method) {
      case 'uid0_accounts':
        return this.uid0();
      case 'group_members':
        return this.groupMembers(args);
      case 'sudo_grants':
        return this.sudo();
      case 'file_caps':
        return this.fileCaps(args);
      case 'sysctl':
        return this.sysctl(args[0]!);
      case 'mount_options':
        return this.mountOptions(args[0]!);
      case 'secure_boot':
        return this.secureBoot();
      case 'auditd_covers':
        return this.auditCovers(args);
      case 'auto_updates':
        return this.autoUpdates();
      case 'pending_security_updates':
        return this.pendingSecurity();
      default:
        return undefined;
    }
  }

  private uid0(): Fact | undefined {
    const f = readRootFile(this.root, '/etc/passwd');
    if (!f) return undefined;
    const names: string[] = [];
    let where = f.path;
    lines(f.text).forEach((l, i) => {
      const p = l.split(':');
      if (p.length >= 4 && p[2] === '0' && names.length < MAX_ITEMS) {
        names.push(p[0]!);
        if (p[0] !== 'root') where = `${f.path}:${i + 1}`;
      }
    });
    return { value: names, source: where };
  }

  private groupMembers(groups: readonly string[]): Fact | undefined {
    const g = readRootFile(this.root, '/etc/group');
    if (!g) return undefined;
    const want = new Set(groups);
    const gids = new Map<string, string>();
    const out = new Set<string>();
    for (const l of lines(g.text)) {
      const p = l.split(':');
      if (p.length < 4 || !want.has(p[0]!)) continue;
      gids.set(p[2]!, p[0]!);
      for (const m of p[3]!.split(',')) if (m.trim() && m.trim() !== 'root') out.add(`${p[0]}:${m.trim()}`);
    }
    // A user whose primary group is one of them is a member too.
    const pw = readRootFile(this.root, '/etc/passwd');
    for (const l of pw ? lines(pw.text) : []) {
      const p = l.split(':');
      const grp = p.length >= 4 ? gids.get(p[3]!) : undefined;
      if (grp && p[0] !== 'root') out.add(`${grp}:${p[0]}`);
    }
    return { value: [...out].sort().slice(0, MAX_ITEMS), source: g.path };
  }

  private sudo(): Fact | undefined {
    const { grants, files } = sudoGrants(this.root);
    if (files.length === 0) {
      // Unreadable (not root) is unknown; no sudo at all grants nothing.
      if (existsInRoot(this.root, '/etc/sudoers') || existsInRoot(this.root, '/etc/sudoers.d'))
        return undefined;
      return {
        value: 'sudo not installed',
        source: '/etc/sudoers',
        status: 'not_applicable',
        note: 'no /etc/sudoers and no /etc/sudoers.d',
      };
    }
    const principals = [...new Set(grants.map((g) => g.principal))].slice(0, MAX_ITEMS);
    const where = grants.slice(0, 5).map((g) => `${g.where} (${g.principal} → ${g.command})`);
    return { value: principals, source: where.join(', ') || files[0]! };
  }

  /** `getcap -r` over the binary folders of the tree (each resolved inside it). */
  private capabilityLines(): { lines: string[]; note?: string } {
    if (this.capLines) return this.capLines;
    const dirs = new Map<string, string>();
    for (const d of CAP_DIRS) {
      const at = locateInRoot(this.root, d);
      if (at?.dir && !dirs.has(at.host)) dirs.set(at.host, at.rel);
    }
    const out: string[] = [];
    let note: string | undefined;
    for (const [host, rel] of dirs) {
      const r = runTool('getcap', ['-r', host], { timeoutMs: 120_000, maxBytes: 4 * 1024 * 1024 });
      if (!r) {
        note = 'getcap is not installed (package libcap2-bin)';
        break;
      }
      for (const l of lines(r.stdout)) {
        if (!l.trim()) continue;
        // Report the path as the tree names it.
        const shown = l.startsWith(host) ? `${rel === '/' ? '' : rel}${l.slice(host.length)}` : l;
        if (out.length < 10_000) out.push(shown);
      }
    }
    this.capLines = note ? { lines: out, note } : { lines: out };
    return this.capLines;
  }

  private fileCaps(caps: readonly string[]): Fact {
    const { lines: ls, note } = this.capabilityLines();
    if (note && ls.length === 0) return { value: null, source: 'getcap', note };
    const paths: string[] = [];
    for (const l of ls) {
      // "/usr/bin/x cap_a,cap_b=ep" (libcap 2.4x) or "/usr/bin/x = cap_a+ep" (older).
      const lower = l.toLowerCase();
      if (!caps.some((c) => lower.includes(c.toLowerCase()))) continue;
      const sp = l.indexOf(' ');
      if (paths.length < MAX_ITEMS) paths.push(sp > 0 ? l.slice(0, sp) : l);
    }
    return { value: paths, source: `getcap -r ${CAP_DIRS.join(' ')}` };
  }

  /** Running value (/proc/sys of the live host or of a collected tree), else the configured one. */
  private sysctl(name: string): Fact | undefined {
    const procPath = `/proc/sys/${name.replaceAll('.', '/')}`;
    const live = this.live ? readLive(procPath) : readRootFile(this.root, procPath, 4096);
    if (live) return { value: numberOr(live.text.trim()), source: live.path };
    const absent = ABSENT_SYSCTLS[name];
    if (
      absent &&
      (this.live || existsInRoot(this.root, '/proc/sys/kernel')) &&
      !existsInRoot(this.root, absent.also)
    )
      return { ...absent.fact, source: procPath };
    return this.configuredSysctl(name);
  }

  /** The value sysctl --system would set: sysctl.d folders by file name (/etc wins), then /etc/sysctl.conf. */
  private configuredSysctl(name: string): Fact | undefined {
    const byName = new Map<string, string>();
    for (const dir of ['/usr/lib/sysctl.d', '/lib/sysctl.d', '/run/sysctl.d', '/etc/sysctl.d'])
      for (const f of listRootDir(this.root, dir) ?? [])
        if (f.endsWith('.conf')) byName.set(f, `${dir}/${f}`);
    const files = [...byName.keys()].sort().map((k) => byName.get(k)!);
    files.push('/etc/sysctl.conf');
    let found: Fact | undefined;
    for (const path of files) {
      const f = readRootFile(this.root, path);
      if (!f) continue;
      lines(f.text).forEach((l, i) => {
        const t = l.trim();
        if (!t || t.startsWith('#') || t.startsWith(';')) return;
        const eq = t.indexOf('=');
        if (eq <= 0) return;
        const key = t.slice(0, eq).trim().replace(/^-/, '').replaceAll('/', '.');
        if (key === name)
          found = {
            value: numberOr(t.slice(eq + 1).trim()),
            source: `${f.path}:${i + 1}`,
            note: 'configured value (not the running one)',
          };
      });
    }
    return found;
  }

  private mountOptions(mountPoint: string): Fact | undefined {
    const sources = this.live ? ['/proc/self/mounts'] : ['/proc/self/mounts', '/proc/mounts', '/etc/fstab'];
    for (const s of sources) {
      const f = this.live ? readLive(s) : readRootFile(this.root, s);
      if (!f) continue;
      let best: { mp: string; opts: string[]; line: number } | undefined;
      lines(f.text).forEach((l, i) => {
        const t = l.trim();
        if (!t || t.startsWith('#')) return;
        const w = words(t);
        if (w.length < 4) return;
        const mp = trimSlashes(unescapeMount(w[1]!));
        const covers = mp === mountPoint || mp === '/' || mountPoint.startsWith(`${mp}/`);
        // The longest covering mount point wins; among equals the last (it is mounted over the others).
        if (covers && (!best || mp.length >= best.mp.length))
          best = { mp, opts: w[3]!.split(','), line: i + 1 };
      });
      if (!best) continue;
      const b = best as { mp: string; opts: string[]; line: number };
      const fact: Fact = { value: b.opts, source: `${f.path}:${b.line}` };
      if (b.mp !== mountPoint) fact.note = `${mountPoint} is not a separate mount: options of ${b.mp}`;
      return fact;
    }
    return undefined;
  }

  private secureBoot(): Fact {
    const bytes = this.live ? readLiveBytes(EFI_SECURE_BOOT) : readRootBytes(this.root, EFI_SECURE_BOOT);
    // efivarfs: 4 bytes of attributes, then the variable (1 = Secure Boot on).
    if (bytes && bytes.length >= 5) return { value: bytes[4] === 1, source: EFI_SECURE_BOOT };
    if (this.live) {
      const r = runTool('mokutil', ['--sb-state'], { timeoutMs: 10_000 });
      const out = `${r?.stdout ?? ''}${r?.stderr ?? ''}`.toLowerCase();
      if (out.includes('secureboot enabled')) return { value: true, source: 'mokutil --sb-state' };
      if (out.includes('secureboot disabled')) return { value: false, source: 'mokutil --sb-state' };
    }
    const efi = this.live
      ? existsInRoot('/', '/sys/firmware/efi')
      : existsInRoot(this.root, '/sys/firmware/efi');
    return {
      value: null,
      source: '/sys/firmware/efi',
      note: efi
        ? 'EFI present but the SecureBoot variable is unreadable'
        : 'no EFI variables visible (legacy BIOS boot, a container, or not collected)',
    };
  }

  /** Audit rules in force (`auditctl -l` on the live host) or as configured (rules files). */
  private auditRules(): { rules: string[]; source: string } {
    if (this.live) {
      const r = runTool('auditctl', ['-l'], { timeoutMs: 10_000 });
      if (r && r.status === 0) return { rules: lines(r.stdout), source: 'auditctl -l' };
    }
    const out: string[] = [];
    const files = ['/etc/audit/audit.rules'];
    for (const n of listRootDir(this.root, '/etc/audit/rules.d') ?? [])
      if (n.endsWith('.rules')) files.push(`/etc/audit/rules.d/${n}`);
    const read: string[] = [];
    for (const p of files) {
      const f = readRootFile(this.root, p);
      if (!f) continue;
      read.push(f.path);
      out.push(...lines(f.text));
    }
    return { rules: out, source: read.join(', ') || '/etc/audit' };
  }

  private auditCovers(targets: readonly string[]): Fact {
    const { rules, source } = this.auditRules();
    const syscalls = new Set<string>();
    const watched: string[] = [];
    for (const raw of rules) {
      const w = words(raw.trim());
      if (w.length === 0 || w[0]!.startsWith('#')) continue;
      const opt = (flag: string): string[] => {
        const v: string[] = [];
        for (let i = 0; i < w.length - 1; i++) if (w[i] === flag) v.push(w[i + 1]!);
        return v;
      };
      const action = opt('-a')[0] ?? opt('-A')[0];
      if (action?.toLowerCase().includes('never')) continue;
      const fields = opt('-F');
      const perm = opt('-p')[0] ?? fields.find((f) => f.startsWith('perm='))?.slice(5);
      const writes = perm === undefined || perm.includes('w') || perm.includes('a');
      for (const p of opt('-w')) if (writes) watched.push(trimSlashes(p));
      for (const f of fields)
        if ((f.startsWith('path=') || f.startsWith('dir=')) && writes)
          watched.push(trimSlashes(f.slice(f.indexOf('=') + 1)));
      if (action) for (const s of opt('-S')) for (const x of s.split(',')) syscalls.add(x.toLowerCase());
    }
    if (rules.every((r) => r.trim() === '' || r.trim().startsWith('#')))
      return { value: false, source, note: 'no audit rules found (auditd not installed or not configured)' };
    const missing: string[] = [];
    // Path targets: every one that exists in the tree (aliases such as /lib → /usr/lib counted once).
    const byRel = new Map<string, string[]>();
    for (const t of targets) {
      if (t.startsWith('syscall:')) {
        const s = t.slice(8).toLowerCase();
        if (!syscalls.has(s) && !syscalls.has('all')) missing.push(s);
        continue;
      }
      const at = locateInRoot(this.root, t);
      const key = at ? at.rel : `missing:${t}`;
      byRel.set(key, [...(byRel.get(key) ?? []), t]);
    }
    const existing = [...byRel.entries()].filter(([k]) => !k.startsWith('missing:'));
    const groups = existing.length > 0 ? existing : [...byRel.entries()];
    const coveredPath = (p: string): boolean => watched.some((w) => p === w || p.startsWith(`${w}/`));
    for (const [, aliases] of groups) if (!aliases.some(coveredPath)) missing.push(aliases[0]!);
    const fact: Fact = { value: missing.length === 0, source };
    if (missing.length > 0) fact.note = `not covered: ${missing.join(', ')}`;
    return fact;
  }

  private autoUpdates(): Fact | undefined {
    // Debian/Ubuntu: APT::Periodic::Unattended-Upgrade "1" in apt.conf.d (last file wins) and the tool installed.
    const aptDir = listRootDir(this.root, '/etc/apt/apt.conf.d');
    if (aptDir) {
      let value: string | undefined;
      let where = '/etc/apt/apt.conf.d';
      for (const n of aptDir) {
        const f = readRootFile(this.root, `/etc/apt/apt.conf.d/${n}`);
        if (!f) continue;
        lines(f.text).forEach((l, i) => {
          const t = l.trim();
          if (t.startsWith('//') || t.startsWith('#')) return;
          const k = t.indexOf('APT::Periodic::Unattended-Upgrade');
          if (k < 0) return;
          const q1 = t.indexOf('"', k);
          const q2 = q1 >= 0 ? t.indexOf('"', q1 + 1) : -1;
          if (q2 > q1) {
            value = t.slice(q1 + 1, q2).trim();
            where = `${f.path}:${i + 1}`;
          }
        });
      }
      const installed = existsInRoot(this.root, '/usr/bin/unattended-upgrade');
      if (!installed) return { value: 'not installed', source: '/usr/bin/unattended-upgrade' };
      return { value: value !== undefined && value !== '0' ? 'enabled' : 'disabled', source: where };
    }
    // RHEL family: dnf-automatic applying updates, with its timer enabled.
    const dnf = readRootFile(this.root, '/etc/dnf/automatic.conf');
    if (dnf) {
      const apply = lines(dnf.text).some((l) => {
        const t = l.replaceAll(' ', '').toLowerCase();
        return t === 'apply_updates=yes' || t === 'apply_updates=true' || t === 'apply_updates=1';
      });
      const timers = listRootDir(this.root, '/etc/systemd/system/timers.target.wants') ?? [];
      const timer = timers.some((t) => t.startsWith('dnf-automatic'));
      return { value: apply && timer ? 'enabled' : 'disabled', source: dnf.path };
    }
    return undefined;
  }

  /** `apt-get -s upgrade` on the live host: packages whose new version comes from a security archive. */
  private pendingSecurity(): Fact {
    if (!this.live)
      return {
        value: null,
        source: 'apt',
        note: 'only the live host (--host) can say which updates are pending',
      };
    const r = runTool('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'upgrade'], { timeoutMs: 120_000 });
    if (!r || r.status !== 0)
      return { value: null, source: 'apt-get -s upgrade', note: 'apt-get is not available or failed' };
    const pkgs: string[] = [];
    for (const l of lines(r.stdout)) {
      if (!l.startsWith('Inst ')) continue;
      const open = l.indexOf('(');
      if (open < 0 || !l.slice(open).toLowerCase().includes('security')) continue;
      const name = words(l)[1];
      if (name && pkgs.length < MAX_ITEMS) pkgs.push(name);
    }
    return { value: pkgs, source: 'apt-get -s upgrade', note: 'as of the last apt-get update' };
  }
}

function numberOr(s: string): string | number {
  const n = Number(s);
  return s !== '' && Number.isFinite(n) ? n : s;
}

function readLive(path: string): { path: string; text: string } | undefined {
  const b = readPseudoFile(path);
  return b ? { path, text: b.toString('utf8') } : undefined;
}

function readLiveBytes(path: string): Buffer | undefined {
  return readPseudoFile(path, 4096);
}
