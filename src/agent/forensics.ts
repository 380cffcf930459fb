import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CollectParams, PersistenceEntry, StepResult } from '../respond/host-tasks/protocol.ts';
import { parseCmdline } from '../sources/procfs/proc-parse.ts';
import { readRegular } from '../sources/procfs/read-bounded.ts';
import { hostPath, resolveInRoot } from '../sources/procfs/root-path.ts';
import { type LiveProcess, readProcess, resolveTargets } from './proc-targets.ts';

/**
 * Evidence collection on this host (issue 17), for a task the server handed
 * over: for each target process, its details (command line, environment,
 * working directory, executable link, status, cgroup, open files, sockets,
 * parent chain, memory map), its executable (read through /proc/PID/exe,
 * so a binary deleted after start is still collected), its memory (every
 * readable mapping of /proc/PID/maps read from /proc/PID/mem, capped), the
 * persistence entries the findings named and the miner's config file. Each
 * piece is written to a scratch file, hashed, and handed to `upload`, which
 * sends it to the server; the server hashes it again and refuses a mismatch.
 */

export interface Artifact {
  kind: 'memory' | 'memory-map' | 'executable' | 'process' | 'persistence' | 'config';
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  collectedAt: string;
  pid?: number;
}

export interface CollectOptions {
  /** Scratch folder (the agent's state folder); files are removed once uploaded. */
  scratch: string;
  /** Root the persistence paths are read under (the agent's --root; default /). */
  fsRoot?: string;
  proc?: string;
  /** Sends one artifact; answers whether the server stored it with the same hash. */
  upload: (a: Artifact) => Promise<{ id: string; sha256: string }>;
}

/** Executables and config or persistence files over this are cut (the cut is recorded). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const MAX_SMALL_FILE = 16 * 1024 * 1024;
const MAX_FDS = 4096;
const MAX_PARENTS = 64;
const CHUNK = 1024 * 1024;

async function hashOf(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  await pipeline(createReadStream(path), async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      bytes += c.length;
      h.update(c);
    }
    yield* [];
  });
  return { sha256: h.digest('hex'), bytes };
}

function safeRead(path: string, max = MAX_SMALL_FILE): Buffer | undefined {
  try {
    const fd = openSync(path, 'r');
    try {
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(Math.min(65536, max - total));
        if (buf.length === 0) break;
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
      }
      return Buffer.concat(chunks);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** Everything /proc says about one process, as one JSON document. */
export function processDetails(p: LiveProcess, proc = '/proc'): Record<string, unknown> {
  const base = `${proc}/${p.pid}`;
  const text = (name: string) => safeRead(`${base}/${name}`)?.toString('utf8');
  const cmdline = safeRead(`${base}/cmdline`);
  const environ = safeRead(`${base}/environ`);
  const fds: { fd: number; target: string }[] = [];
  const socketInodes = new Set<string>();
  try {
    const names = pidEntries(`${base}/fd`).slice(0, MAX_FDS);
    for (const n of names) {
      const target = link(`${base}/fd/${n}`);
      if (target === undefined) continue;
      fds.push({ fd: Number(n), target });
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) socketInodes.add(m[1]!);
    }
  } catch {
    // Gone meanwhile: what was read stays.
  }
  const sockets: Record<string, string[]> = {};
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const rows = (text(`net/${table}`) ?? '').split('\n').slice(1);
    const mine = rows.filter((r) => {
      const cols = r.trim().split(/\s+/);
      return cols.length > 9 && socketInodes.has(cols[9]!);
    });
    if (mine.length > 0) sockets[table] = mine.map((r) => r.trim());
  }
  const parents: { pid: number; name: string; exe?: string; cmdline: string[] }[] = [];
  let ppid = p.stat.ppid;
  for (let i = 0; i < MAX_PARENTS && ppid > 0; i++) {
    const parent = readProcess(ppid, proc, 0);
    if (!parent) break;
    parents.push({
      pid: ppid,
      name: parent.stat.comm,
      ...(parent.exe === undefined ? {} : { exe: parent.exe }),
      cmdline: parseCmdline(safeRead(`${proc}/${ppid}/cmdline`) ?? Buffer.alloc(0)),
    });
    ppid = parent.stat.ppid;
  }
  return {
    pid: p.pid,
    name: p.stat.comm,
    state: p.stat.state,
    ppid: p.stat.ppid,
    start: p.start ?? null,
    exe: p.exe ?? null,
    exe_deleted: p.deleted,
    cmdline: cmdline ? parseCmdline(cmdline) : null,
    environ: environ ? environ.toString('utf8').split('\0').filter(Boolean) : null,
    cwd: link(`${base}/cwd`) ?? null,
    root: link(`${base}/root`) ?? null,
    status: text('status') ?? null,
    cgroup: text('cgroup') ?? null,
    limits: text('limits') ?? null,
    maps: text('maps') ?? null,
    fds,
    sockets,
    parents,
  };
}

function pidEntries(path: string): string[] {
  try {
    return readdirSync(path).sort((x, y) => Number(x) - Number(y));
  } catch {
    return [];
  }
}

interface Region {
  start: number;
  end: number;
  perms: string;
  path: string;
}

function parseMaps(text: string): Region[] {
  const out: Region[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: Number.parseInt(m[1]!, 16),
      end: Number.parseInt(m[2]!, 16),
      perms: m[3]!,
      path: m[4] ?? '',
    });
  }
  return out;
}

/**
 * The readable mappings of a process, read from /proc/PID/mem into `dump`
 * one after another, and the map of where each went (start, end, permissions,
 * file, offset in the dump, bytes read, why a region was cut or skipped).
 */
export function dumpMemory(
  pid: number,
  dump: string,
  budget: number,
  proc = '/proc',
): { map: Record<string, unknown>; bytes: number } {
  const regions = parseMaps(safeRead(`${proc}/${pid}/maps`)?.toString('latin1') ?? '');
  const out = openSync(dump, 'w', 0o600);
  const entries: Record<string, unknown>[] = [];
  let written = 0;
  let cut = false;
  let mem: number | undefined;
  try {
    mem = openSync(`${proc}/${pid}/mem`, 'r');
  } catch (e) {
    closeSync(out);
    return {
      map: { pid, error: `cannot open /proc/${pid}/mem: ${(e as Error).message}`, regions: [] },
      bytes: 0,
    };
  }
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    for (const r of regions) {
      const entry: Record<string, unknown> = {
        start: `0x${r.start.toString(16)}`,
        end: `0x${r.end.toString(16)}`,
        perms: r.perms,
        path: r.path,
        offset: written,
        bytes: 0,
      };
      entries.push(entry);
      if (
        r.perms[0] !== 'r' ||
        r.path === '[vvar]' ||
        r.path === '[vsyscall]' ||
        r.path === '[vvar_vclock]'
      ) {
        entry['skipped'] = r.perms[0] !== 'r' ? 'not readable' : 'kernel page';
        continue;
      }
      let pos = r.start;
      while (pos < r.end) {
        if (written >= budget) {
          cut = true;
          entry['cut'] = 'memory budget reached';
          break;
        }
        const want = Math.min(CHUNK, r.end - pos, budget - written);
        let n: number;
        try {
          n = readSync(mem, buf, 0, want, pos);
        } catch (e) {
          entry['error'] = (e as NodeJS.ErrnoException).code ?? 'read error';
          break;
        }
        if (n <= 0) break;
        let off = 0;
        while (off < n) off += writeSync(out, buf, off, n - off);
        written += n;
        entry['bytes'] = (entry['bytes'] as number) + n;
        pos += n;
      }
      if (cut) break;
    }
  } finally {
    closeSync(mem);
    closeSync(out);
  }
  return { map: { pid, budget, cut, bytes: written, regions: entries }, bytes: written };
}

/** The miner's config file: `-c FILE`, `--config FILE`, `--config=FILE`, else config.json in its working directory. */
export function configPaths(cmdline: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < cmdline.length; i++) {
    const a = cmdline[i]!;
    if ((a === '-c' || a === '--config') && i + 1 < cmdline.length) out.push(cmdline[i + 1]!);
    else if (a.startsWith('--config=')) out.push(a.slice('--config='.length));
  }
  out.push('config.json');
  return [...new Set(out)].slice(0, 8);
}

/** Runs a collect task; every step's result, and the ids the server gave what it stored. */
export async function collect(
  params: CollectParams,
  o: CollectOptions,
): Promise<{ steps: StepResult[]; evidence: string[] }> {
  const proc = o.proc ?? '/proc';
  const root = o.fsRoot ?? '/';
  const steps: StepResult[] = [];
  const evidence: string[] = [];
  mkdirSync(o.scratch, { recursive: true, mode: 0o700 });
  const include = new Set(params.include);
  let n = 0;
  const scratchFile = () => join(o.scratch, `collect-${process.pid}-${Date.now()}-${n++}`);

  const send = async (step: string, target: string, a: Omit<Artifact, 'sha256' | 'bytes'>): Promise<void> => {
    try {
      const { sha256, bytes } = await hashOf(a.path);
      const stored = await o.upload({ ...a, sha256, bytes });
      const verified = stored.sha256 === sha256;
      steps.push({
        step,
        target,
        ok: true,
        verified,
        sha256,
        detail: `${bytes} bytes stored as ${stored.id}`,
      });
      evidence.push(stored.id);
    } catch (e) {
      steps.push({ step, target, ok: false, verified: false, detail: (e as Error).message.slice(0, 2000) });
    } finally {
      rmSync(a.path, { force: true });
    }
  };

  const { processes, missed } = resolveTargets(params.targets, proc);
  for (const m of missed)
    steps.push({ step: 'process', target: m.target, ok: false, verified: false, detail: m.why });
  let memoryLeft = params.memory_max_bytes;
  for (const p of processes) {
    const target = `pid ${p.pid}${p.exe ? ` ${p.exe}` : ''}`;
    const at = () => new Date().toISOString();
    const details = processDetails(p, proc);
    if (include.has('process')) {
      const f = scratchFile();
      writeFileSync(f, `${JSON.stringify(details, null, 2)}\n`, { mode: 0o600 });
      await send('process', target, {
        kind: 'process',
        name: `process ${p.pid} (${p.stat.comm})`,
        path: f,
        collectedAt: at(),
        pid: p.pid,
      });
    }
    if (include.has('executable')) {
      const f = scratchFile();
      try {
        // /proc/PID/exe opens the file the process runs, even once deleted from its folder.
        await pipeline(
          createReadStream(`${proc}/${p.pid}/exe`, { end: MAX_FILE_BYTES - 1 }),
          createWriteStream(f, { mode: 0o600 }),
        );
        await send('executable', target, {
          kind: 'executable',
          name: `/proc/${p.pid}/exe → ${p.exe ?? '?'}${p.deleted ? ' (deleted)' : ''}`,
          path: f,
          collectedAt: at(),
          pid: p.pid,
        });
      } catch (e) {
        rmSync(f, { force: true });
        steps.push({
          step: 'executable',
          target,
          ok: false,
          verified: false,
          detail: (e as Error).message.slice(0, 2000),
        });
      }
    }
    if (include.has('memory')) {
      const f = scratchFile();
      const startedAt = at();
      const { map, bytes } = dumpMemory(p.pid, f, memoryLeft, proc);
      memoryLeft = Math.max(0, memoryLeft - bytes);
      await send('memory', target, {
        kind: 'memory',
        name: `memory of pid ${p.pid} (${p.stat.comm})`,
        path: f,
        collectedAt: startedAt,
        pid: p.pid,
      });
      const mf = scratchFile();
      writeFileSync(mf, `${JSON.stringify(map, null, 2)}\n`, { mode: 0o600 });
      await send('memory-map', target, {
        kind: 'memory-map',
        name: `memory map of pid ${p.pid}`,
        path: mf,
        collectedAt: startedAt,
        pid: p.pid,
      });
    }
    if (include.has('config')) {
      const cwd = details['cwd'];
      for (const c of configPaths((details['cmdline'] as string[] | null) ?? [])) {
        // Read through the process's own view (/proc/PID/cwd, /proc/PID/root): right in any mount namespace.
        const path = isAbsolute(c) ? `${proc}/${p.pid}/root${c}` : `${proc}/${p.pid}/cwd/${c}`;
        const r = readRegular(path, MAX_SMALL_FILE);
        if (!r) continue;
        // The command line is the attacker's: `-c /etc/shadow` must not send the host's secrets to the
        // server as evidence. Miner configs (XMRig and its forks) are JSON objects; nothing else is taken.
        if (!isJsonObject(r.data)) {
          steps.push({
            step: 'config',
            target,
            ok: false,
            verified: false,
            detail: `${c.slice(0, 200)}: not a JSON object, not collected`,
          });
          continue;
        }
        const f = scratchFile();
        writeFileSync(f, r.data, { mode: 0o600 });
        await send('config', target, {
          kind: 'config',
          name: isAbsolute(c) ? c : `${typeof cwd === 'string' ? cwd : '.'}/${c}`,
          path: f,
          collectedAt: at(),
          pid: p.pid,
        });
      }
    }
  }
  if (include.has('persistence')) {
    for (const e of dedupeFiles(params.persistence)) {
      const inRoot = resolveInRoot(root, e.file);
      if (!inRoot || !inRoot.stat.isFile()) {
        steps.push({
          step: 'persistence',
          target: e.file,
          ok: false,
          verified: false,
          detail: 'no regular file there now',
        });
        continue;
      }
      const r = readRegular(hostPath(root, inRoot.rel), MAX_SMALL_FILE);
      if (!r) {
        steps.push({
          step: 'persistence',
          target: e.file,
          ok: false,
          verified: false,
          detail: 'cannot be read',
        });
        continue;
      }
      const f = scratchFile();
      writeFileSync(f, r.data, { mode: 0o600 });
      await send('persistence', e.file, {
        kind: 'persistence',
        name: e.file,
        path: f,
        collectedAt: new Date().toISOString(),
      });
    }
  }
  return { steps, evidence };
}

function isJsonObject(data: Buffer): boolean {
  try {
    const v = JSON.parse(data.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

function dedupeFiles(entries: readonly PersistenceEntry[]): PersistenceEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    if (seen.has(e.file)) return false;
    seen.add(e.file);
    return true;
  });
}

/** Whether a path is a regular file now (lstat: a link is not). */
export function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}
