import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  EradicateParams,
  EradicateStep,
  PersistenceEntry,
  StepResult,
} from '../respond/host-tasks/protocol.ts';
import { hostPath, resolveInRoot } from '../sources/procfs/root-path.ts';
import { descendants, type LiveProcess, readProcess, resolveTargets, SYSTEM_DIRS } from './proc-targets.ts';

/**
 * Eradication on this host (issue 17), for a task the server handed over.
 * The steps run in this order whatever order they were asked in, each
 * verified by reading back, never assumed:
 *
 * 1. suspend: SIGSTOP the target processes and their descendants (a miner
 *    cannot respawn its children or notice the clean-up); verified by the
 *    state `T` in /proc/PID/stat.
 * 2. quarantine: each target's executable is copied through /proc/PID/exe
 *    (right even when the file was deleted) into the quarantine folder,
 *    hashed, made unreadable and non-executable (mode 000), with a record
 *    of where it was, its mode and owner (restorable: docs/incidents.md);
 *    then the file is removed from its folder; verified: the path is gone
 *    and the quarantined copy hashes as recorded.
 * 3. kill: SIGKILL the tree; verified: every pid gone or a zombie.
 * 4. remove_persistence: each entry's file is backed up into the quarantine
 *    folder, then the named line is removed (systemd units and other files
 *    whose whole content is the entry are removed as a whole); verified by
 *    reading the file again.
 */

export interface EradicateOptions {
  /** The quarantine folder (inside the agent's state folder). */
  quarantine: string;
  /** Root the persistence paths are under (the agent's --root; default /). */
  fsRoot?: string;
  proc?: string;
}

const ORDER: readonly EradicateStep[] = ['suspend', 'quarantine', 'kill', 'remove_persistence'];
const KILL_WAIT_MS = 5000;
const MAX_PERSISTENCE_FILE = 16 * 1024 * 1024;

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

function signal(pid: number, sig: NodeJS.Signals): string | undefined {
  try {
    process.kill(pid, sig);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

function state(pid: number, proc: string): string | undefined {
  return readProcess(pid, proc, 0)?.stat.state;
}

/** A whole file is the persistence entry (remove the file, not a line). */
function wholeFileEntry(file: string): boolean {
  return /\.(service|timer|socket|path|desktop)$/.test(file) || /\/init\.d\//.test(file);
}

/** Removes line `entry.line` (1-based) when it still reads as recorded, else the lines equal to the recorded content. */
export function withoutLine(
  text: string,
  entry: PersistenceEntry,
): { text: string; removed: string } | undefined {
  const lines = text.split('\n');
  const same = (l: string) => entry.content === undefined || l.trim() === entry.content.trim();
  let at = -1;
  if (entry.line !== undefined && entry.line <= lines.length && same(lines[entry.line - 1]!))
    at = entry.line - 1;
  else if (entry.content !== undefined)
    at = lines.findIndex((l) => l.trim() === entry.content!.trim() && l.trim() !== '');
  if (at < 0) return undefined;
  const removed = lines[at]!;
  // Every copy of the line goes: one left behind would start the miner again.
  return { text: lines.filter((l) => l.trim() !== removed.trim()).join('\n'), removed };
}

export async function eradicate(params: EradicateParams, o: EradicateOptions): Promise<StepResult[]> {
  const proc = o.proc ?? '/proc';
  const root = o.fsRoot ?? '/';
  const steps: StepResult[] = [];
  const asked = new Set(params.steps);
  mkdirSync(o.quarantine, { recursive: true, mode: 0o700 });
  chmodSync(o.quarantine, 0o700);

  const { processes, missed } = resolveTargets(params.targets, proc);
  for (const m of missed)
    steps.push({ step: 'target', target: m.target, ok: true, verified: true, detail: m.why });
  const roots = processes.map((p) => p.pid);
  // The tree as it is now; read again before the kill (a suspended tree does not grow).
  let tree = [...roots, ...descendants(roots, proc)];

  for (const step of ORDER) {
    if (!asked.has(step)) continue;
    if (step === 'suspend') {
      for (const pid of tree) {
        const err = signal(pid, 'SIGSTOP');
        let st = state(pid, proc);
        for (let i = 0; i < 20 && st !== undefined && st !== 'T' && st !== 't' && st !== 'Z'; i++) {
          await sleep(25);
          st = state(pid, proc);
        }
        const verified = st === 'T' || st === 't' || st === 'Z' || st === undefined;
        steps.push({
          step,
          target: `pid ${pid}`,
          ok: err === undefined || err === 'ESRCH',
          verified,
          detail: err ? `kill(SIGSTOP): ${err}` : `state ${st ?? 'gone'}`,
        });
      }
    } else if (step === 'quarantine') {
      const seen = new Set<string>();
      for (const p of processes) {
        if (p.exe === undefined || seen.has(p.exe)) continue;
        seen.add(p.exe);
        steps.push(await quarantine(p, o.quarantine, proc));
      }
    } else if (step === 'kill') {
      tree = [...new Set([...tree, ...descendants(roots, proc)])];
      for (const pid of [...tree].reverse()) signal(pid, 'SIGKILL');
      const deadline = Date.now() + KILL_WAIT_MS;
      const alive = () =>
        tree.filter((pid) => {
          const st = state(pid, proc);
          return st !== undefined && st !== 'Z';
        });
      while (alive().length > 0 && Date.now() < deadline) await sleep(50);
      const left = new Set(alive());
      for (const pid of tree)
        steps.push({
          step,
          target: `pid ${pid}`,
          ok: !left.has(pid),
          verified: !left.has(pid),
          detail: left.has(pid) ? 'still running after SIGKILL' : 'gone',
        });
      if (tree.length === 0)
        steps.push({ step, ok: true, verified: true, detail: 'no live process to kill' });
    } else if (step === 'remove_persistence') {
      for (const e of params.persistence) steps.push(await removePersistence(e, root, o.quarantine));
    }
  }
  return steps;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

async function quarantine(p: LiveProcess, dir: string, proc: string): Promise<StepResult> {
  const target = p.exe!;
  const tmp = join(dir, `.incoming-${p.pid}-${Date.now()}`);
  try {
    // Through /proc/PID/exe: the bytes the process runs, even when its file was deleted or replaced.
    copyFileSync(`${proc}/${p.pid}/exe`, tmp);
    const sha256 = await sha256Of(tmp);
    const saved = join(dir, `${sha256}.bin`);
    renameSync(tmp, saved);
    chmodSync(saved, 0o000);
    let original: Record<string, unknown> = { path: target, deleted_before: p.deleted };
    // The path as the process sees it (its own mount namespace: a container's /usr/local/bin is not
    // the host's), removed only when it is the very file the process runs (same device and inode).
    const inNs = `${proc}/${p.pid}/root${target}`;
    let kept: string | undefined;
    if (!p.deleted) {
      const st = lstatOrUndefined(inNs);
      const running = statOrUndefined(`${proc}/${p.pid}/exe`);
      if (st) {
        original = {
          ...original,
          mode: st.mode & 0o7777,
          uid: st.uid,
          gid: st.gid,
          mtime: st.mtime.toISOString(),
        };
        if (SYSTEM_DIRS.test(target))
          kept = 'under a system folder (a package may own it): copied, left in place for the analyst';
        else if (!st.isFile() || !running || st.dev !== running.dev || st.ino !== running.ino)
          kept = 'the file at that path is not the one the process runs: copied, left in place';
        else unlinkSync(inNs);
      }
    }
    writeFileSync(
      join(dir, `${sha256}.json`),
      `${JSON.stringify({ sha256, quarantined_at: new Date().toISOString(), original }, null, 2)}\n`,
      { mode: 0o600 },
    );
    const gone = p.deleted || lstatOrUndefined(inNs) === undefined;
    const again = await sha256Of(saved);
    return {
      step: 'quarantine',
      target,
      ok: gone,
      verified: gone && again === sha256,
      saved_to: saved,
      sha256,
      detail: gone
        ? 'moved to quarantine (mode 000), original removed'
        : (kept ?? 'copied, but the original is still there'),
    };
  } catch (e) {
    rmSync(tmp, { force: true });
    return {
      step: 'quarantine',
      target,
      ok: false,
      verified: false,
      detail: (e as Error).message.slice(0, 2000),
    };
  }
}

async function removePersistence(e: PersistenceEntry, root: string, dir: string): Promise<StepResult> {
  const step = 'remove_persistence';
  const inRoot = resolveInRoot(root, e.file);
  if (!inRoot) return { step, target: e.file, ok: true, verified: true, detail: 'the file is gone already' };
  if (!inRoot.stat.isFile())
    return { step, target: e.file, ok: false, verified: false, detail: 'not a regular file: left alone' };
  if (inRoot.stat.size > MAX_PERSISTENCE_FILE)
    return { step, target: e.file, ok: false, verified: false, detail: 'over 16 MiB: left alone' };
  const path = hostPath(root, inRoot.rel);
  const before = readFileSync(path);
  const sha256 = createHash('sha256').update(before).digest('hex');
  const backup = join(dir, `persistence-${sha256.slice(0, 16)}-${basename(e.file)}`);
  writeFileSync(backup, before, { mode: 0o600 });
  writeFileSync(
    `${backup}.json`,
    `${JSON.stringify({ file: e.file, sha256, mode: inRoot.stat.mode & 0o7777, uid: inRoot.stat.uid, gid: inRoot.stat.gid, saved_at: new Date().toISOString(), entry: e }, null, 2)}\n`,
    { mode: 0o600 },
  );
  if (wholeFileEntry(e.file) && e.line === undefined) {
    unlinkSync(path);
    const gone = !existsSync(path);
    return {
      step,
      target: e.file,
      ok: gone,
      verified: gone,
      saved_to: backup,
      sha256,
      detail: 'file removed (backed up)',
    };
  }
  const cut = withoutLine(before.toString('utf8'), e);
  if (!cut)
    return {
      step,
      target: `${e.file}${e.line ? `:${e.line}` : ''}`,
      ok: false,
      verified: false,
      saved_to: backup,
      sha256,
      detail: 'the entry is not in the file as recorded (changed since): left alone',
    };
  // Written beside it and renamed over it: never a half-written crontab.
  const tmp = `${path}.deminer-${process.pid}`;
  const fd = openSync(tmp, 'wx', inRoot.stat.mode & 0o7777);
  try {
    writeSync(fd, cut.text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chownSync(tmp, inRoot.stat.uid, inRoot.stat.gid);
  } catch {
    // Not root (tests): the owner stays ours.
  }
  renameSync(tmp, path);
  const after = readFileSync(path, 'utf8');
  const verified = !after.split('\n').some((l) => l.trim() === cut.removed.trim());
  return {
    step,
    target: `${e.file}${e.line ? `:${e.line}` : ''}`,
    ok: verified,
    verified,
    saved_to: backup,
    sha256,
    detail: `removed the line ${JSON.stringify(cut.removed.slice(0, 300))} (file backed up)`,
  };
}
