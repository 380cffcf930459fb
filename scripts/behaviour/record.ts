/**
 * Records real workloads with the project's own sampler, one scenario at a
 * time (scenarios.ts), into data/behaviour/recordings/<scenario>.json.gz:
 * the 1 Hz series of the workload's processes (labelled) and of the idle
 * system services beside them (benign background).
 *
 *   node --import tsx scripts/behaviour/record.ts --miner PATH/TO/xmrig [--out DIR] [--seconds N] SCENARIO…
 *
 * Needs root (cgroup quotas, /proc/PID/io of every process). The miner is
 * copied under an ordinary name and pointed only at a stratum pool this
 * script runs on loopback.
 */
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BehaviourSeries } from '../../src/core/host-snapshot.ts';
import { parseStat } from '../../src/sources/procfs/proc-parse.ts';
import { BehaviourSampler } from '../../src/sources/procfs/sampler.ts';
import { SCENARIOS, type Scenario } from './scenarios.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const POOL_SCRIPT = join(REPO, 'test/sim/stratum-pool.mjs');

export interface RecordedProcess {
  pid: number;
  comm: string;
  exe: string;
  role: 'workload' | 'background';
  series: BehaviourSeries;
  /** Established outbound TCP connections, per sample (-1: not counted at that sample). */
  outbound: number[];
}

export interface Recording {
  scenario: Omit<Scenario, 'command' | 'setup' | 'teardown'> & { command: string };
  recordedAt: string;
  host: { cpus: number };
  processes: RecordedProcess[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** Deterministic inputs for the compile and compression workloads. */
function prepareWork(work: string): void {
  const blob = join(work, 'blob');
  if (!existsSync(blob)) {
    // Real binaries and text of this system: compresses like ordinary data does.
    const parts: Buffer[] = [];
    let size = 0;
    for (const dir of ['/usr/bin', '/usr/share/doc']) {
      const stack = [dir];
      while (stack.length && size < 96 * 1024 * 1024) {
        const d = stack.pop()!;
        let names: string[] = [];
        try {
          names = readdirSync(d).sort();
        } catch {
          continue;
        }
        for (const n of names) {
          const p = join(d, n);
          try {
            const b = readFileSync(p);
            parts.push(b);
            size += b.length;
          } catch {
            stack.push(p);
          }
          if (size >= 96 * 1024 * 1024) break;
        }
      }
    }
    writeFileSync(blob, Buffer.concat(parts));
  }
  const page = join(work, 'page.html');
  if (!existsSync(page)) {
    // A page that keeps the renderer busy: thousands of styled boxes laid out again and a canvas redrawn.
    writeFileSync(
      page,
      `<!doctype html><html><head><style>.b{display:inline-flex;width:9px;height:9px;margin:1px;border-radius:3px;box-shadow:0 0 3px #333}</style></head><body><canvas id="c" width="1200" height="700"></canvas><div id="d"></div><script>
const d=document.getElementById('d');for(let i=0;i<20000;i++){const e=document.createElement('div');e.className='b';e.style.background='hsl('+(i%360)+',70%,50%)';d.appendChild(e);}
const g=document.getElementById('c').getContext('2d');let f=0;function draw(){for(let i=0;i<20000;i++){g.strokeStyle='hsl('+((i+f)%360)+',80%,50%)';g.beginPath();g.moveTo((i*37+f)%1200,(i*91)%700);g.lineTo((i*53)%1200,(i*17+f)%700);g.stroke();}
for(let i=0;i<200;i++)d.children[(f*200+i)%20000].style.width=(8+((f+i)%5))+'px';f++;requestAnimationFrame(draw);}draw();
</script></body></html>\n`,
    );
  }
  const src = join(work, 'big.c');
  if (!existsSync(src)) {
    const lines: string[] = ['#include <string.h>', 'static unsigned s;'];
    for (let i = 0; i < 1500; i++) {
      lines.push(
        `unsigned f${i}(const unsigned char *p, unsigned n) { unsigned h = ${i}u; for (unsigned k = 0; k < n; k++) { h = h * 31u + p[k]; if (h & 1) h ^= (h >> 7) * ${(i * 2654435761) % 4294967291}u; else h += k * ${i + 3}u; } s += h; return h; }`,
      );
    }
    writeFileSync(src, `${lines.join('\n')}\n`);
  }
}

function startPool(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [POOL_SCRIPT, '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /LISTENING (\d+)/.exec(buf);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('error', reject);
  });
}

/** A cgroup with a CPU quota (v2 cpu.max, else v1 cfs_quota_us); returns its cgroup.procs and a remover. */
function makeCgroup(name: string, share: number): { procs: string; remove: () => void } {
  const period = 100_000;
  const quota = Math.round(share * period);
  const v2 = '/sys/fs/cgroup/cgroup.controllers';
  if (existsSync(v2) && readText(v2)?.includes('cpu')) {
    const dir = `/sys/fs/cgroup/${name}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
    return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
  }
  const dir = `/sys/fs/cgroup/cpu/${name}`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
  writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
  return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
}

/** Established outbound TCP connections per pid (host network namespace), counting socket fds. */
function outboundCounts(pids: readonly number[]): Map<number, number> {
  const listening = new Set<number>();
  const established = new Map<string, number>(); // inode -> local port
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (readText(f) ?? '').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i]!.trim().split(/\s+/);
      if (c.length < 10) continue;
      const port = Number.parseInt((c[1] ?? '').split(':')[1] ?? '', 16);
      if (c[3] === '0A') listening.add(port);
      else if (c[3] === '01') established.set(c[9] ?? '0', port);
    }
  }
  const out = new Map<number, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`).slice(0, 4096);
    } catch {
      continue;
    }
    let n = 0;
    for (const fd of fds) {
      let l = '';
      try {
        l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!l.startsWith('socket:[')) continue;
      const port = established.get(l.slice(8, -1));
      if (port !== undefined && !listening.has(port)) n++;
    }
    out.set(pid, n);
  }
  return out;
}

async function recordScenario(
  sc: Scenario,
  miner: string,
  work: string,
  seconds: number,
): Promise<Recording> {
  const env: Record<string, string> = { ...process.env, MINER: miner, WORK: work, REPO } as Record<
    string,
    string
  >;
  let pool: { child: ChildProcess; port: number } | undefined;
  if (sc.label === 'miner') {
    pool = await startPool();
    env['POOL'] = String(pool.port);
  }
  if (sc.setup) execSync(sc.setup, { env, stdio: 'inherit', shell: '/bin/sh' });
  const cg = sc.cgroupQuota ? makeCgroup(`deminer-rec-${sc.name}`, sc.cgroupQuota) : undefined;
  const wrapped = cg
    ? `echo $$ > '${cg.procs}' && exec sh -c '${sc.command.replaceAll("'", "'\\''")}'`
    : sc.command;
  const child = spawn('/bin/sh', ['-c', wrapped], { env, stdio: 'ignore', detached: true });
  const root = child.pid!;
  const tree = new Set<number>([root]);
  const outbound = new Map<number, number[]>();
  const names = new Map<number, { comm: string; exe: string }>();
  const exited: { pid: number; series: BehaviourSeries }[] = [];
  // Short-lived processes (a compiler pass, a test file) are kept when they exit: a scan sees them too.
  const sampler = new BehaviourSampler({
    onExit: (pid, series) => {
      if (tree.has(pid)) exited.push({ pid, series });
    },
  });
  let stopTimer: NodeJS.Timeout | undefined;
  let running = true;
  // cpulimit-style duty cycle: SIGSTOP/SIGCONT the chosen processes.
  const dutyTargets = (): number[] =>
    sc.duty!.name === ''
      ? [root]
      : [...tree].filter((p) => parseStat(readText(`/proc/${p}/stat`) ?? '')?.comm === sc.duty!.name);
  if (sc.duty) {
    const { share, periodMs } = sc.duty;
    const cycle = () => {
      if (!running) return;
      for (const p of dutyTargets()) {
        try {
          process.kill(p, 'SIGSTOP');
        } catch {}
      }
      stopTimer = setTimeout(
        () => {
          for (const p of dutyTargets()) {
            try {
              process.kill(p, 'SIGCONT');
            } catch {}
          }
          stopTimer = setTimeout(cycle, share * periodMs);
        },
        (1 - share) * periodMs,
      );
    };
    stopTimer = setTimeout(cycle, share * periodMs);
  }
  const t0 = performance.now();
  for (let i = 0; i < seconds; i++) {
    // The workload's process tree, and servers it loads.
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || tree.has(pid)) continue;
      const st = parseStat(readText(`/proc/${pid}/stat`) ?? '');
      if (st && (tree.has(st.ppid) || sc.alsoNames?.some((n) => st.comm.startsWith(n)))) tree.add(pid);
    }
    for (const pid of tree)
      if (!names.has(pid))
        names.set(pid, { comm: parseStat(readText(`/proc/${pid}/stat`) ?? '')?.comm ?? '', exe: exeOf(pid) });
    sampler.sample(performance.now() - t0);
    const pids = sampler.pids();
    const counts = i % 10 === 9 ? outboundCounts(pids) : undefined;
    for (const pid of pids) {
      const list = outbound.get(pid) ?? [];
      list.push(counts?.get(pid) ?? -1);
      outbound.set(pid, list);
    }
    await sleep(Math.max(0, 1000 * (i + 1) - (performance.now() - t0)));
  }
  running = false;
  if (stopTimer) clearTimeout(stopTimer);
  const processes: RecordedProcess[] = [];
  for (const { pid, series } of exited) {
    if (series.t.length < 10) continue;
    const n = names.get(pid) ?? { comm: '', exe: '' };
    const ob = (outbound.get(pid) ?? []).slice(-series.t.length);
    processes.push({
      pid,
      comm: n.comm,
      exe: sc.label === 'miner' ? '(miner)' : n.exe,
      role: 'workload',
      series,
      outbound: ob,
    });
  }
  for (const pid of sampler.pids()) {
    if (pid === process.pid || pid === pool?.child.pid) continue;
    const series = sampler.seriesOf(pid);
    if (!series || series.t.length < 10) continue;
    const exe = exeOf(pid);
    const comm = parseStat(readText(`/proc/${pid}/stat`) ?? '')?.comm ?? '';
    const role = tree.has(pid) ? 'workload' : 'background';
    // Background: idle system services only (other people's programs on this host are not labelled data).
    if (role === 'background' && !/^\/(usr\/)?(s?bin|lib)\//.test(exe)) continue;
    const ob = (outbound.get(pid) ?? []).slice(-series.t.length);
    processes.push({
      pid,
      comm,
      exe: role === 'workload' && sc.label === 'miner' ? '(miner)' : exe,
      role,
      series,
      outbound: ob,
    });
  }
  // Tear down: let stopped processes run so they can exit.
  try {
    process.kill(-root, 'SIGCONT');
    process.kill(-root, 'SIGTERM');
  } catch {}
  await sleep(1500);
  try {
    process.kill(-root, 'SIGKILL');
  } catch {}
  await sleep(300);
  pool?.child.kill('SIGTERM');
  if (sc.teardown) execSync(sc.teardown, { env, stdio: 'inherit', shell: '/bin/sh' });
  try {
    cg?.remove();
  } catch (e) {
    process.stderr.write(`cgroup not removed: ${String(e)}\n`);
  }
  const { command, setup: _s, teardown: _t, ...meta } = sc;
  return {
    scenario: { ...meta, command },
    recordedAt: new Date().toISOString(),
    host: { cpus: availableParallelism() },
    processes,
  };
}

async function main(): Promise<void> {
  const minerSrc = arg('--miner');
  const out = arg('--out') ?? join(REPO, 'data/behaviour/recordings');
  const seconds = arg('--seconds');
  const names = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const list = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  if (list.some((s) => s.label === 'miner') && !minerSrc)
    throw new Error('--miner PATH is needed for miner scenarios');
  const tmp = mkdtempSync(join(tmpdir(), 'deminer-rec-'));
  // An ordinary name in an ordinary-looking place, as a careful attacker leaves it.
  const binDir = join(tmp, 'usr/local/bin');
  mkdirSync(binDir, { recursive: true });
  const miner = join(binDir, 'dbus-session-helper');
  if (minerSrc) {
    copyFileSync(minerSrc, miner);
    chmodSync(miner, 0o755);
  }
  const work = join(tmp, 'work');
  mkdirSync(work);
  prepareWork(work);
  mkdirSync(out, { recursive: true });
  try {
    for (const sc of list) {
      process.stderr.write(`recording ${sc.name} (${seconds ?? sc.seconds} s)…\n`);
      const rec = await recordScenario(sc, miner, work, Number(seconds ?? sc.seconds));
      const file = join(out, `${sc.name}.json.gz`);
      writeFileSync(file, gzipSync(JSON.stringify(rec), { level: 9 }));
      const wl = rec.processes.filter((p) => p.role === 'workload').length;
      process.stderr.write(`  ${file}: ${wl} workload + ${rec.processes.length - wl} background processes\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('true');
  }
}

await main();
