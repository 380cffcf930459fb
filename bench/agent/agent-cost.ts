/**
 * What `deminer agent` costs on a busy host: pads the host to a few hundred
 * real processes (`sleep`/`tail` children with varied arguments, some holding
 * loopback connections), starts a real server in this process (SQLite in a
 * temporary folder), enrols and runs the agent as its own process every
 * 10 s with its default 1 s sampling window, and reads that process's
 * CPU time (utime + stime of /proc/PID/stat, all its threads) and memory
 * (VmRSS, VmHWM of /proc/PID/status) over whole cycles (scan, heartbeat,
 * delivery) after the warm-up scans. The agent runs
 *   - from the TypeScript sources: `bin/deminer.js agent …` with
 *     DEMINER_FROM_SOURCE=1 (the tsx loader, as in a checkout being edited);
 *   - from the bundle (`dist/deminer.mjs`, what an install runs; `npm run
 *     build` first), through bench/agent/run-bundle.mjs whatever its age.
 *
 *   node --import tsx bench/agent/agent-cost.ts [--procs 400] [--seconds 120] [--sockets 100]
 *        [--mode both|tsx|bundle] [--window 1s] [--interval 10s] [--warmup 1] [--runs 1]
 *        [--bundle FILE] [--cpu-prof-dir DIR]
 *   node --import tsx bench/agent/profile-summary.ts DIR/*.cpuprofile --skip-s 30   # where it went
 *
 * CPU time is the agent process's own, so other jobs on the machine slow it
 * down without inflating the figure much; the server and the padding live in
 * this process and are not counted. The host's TCP opens per second are
 * printed beside it: every connection opened on the host (not only the
 * agent's) makes the next scan read the kernel's TCP tables again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '../../src/server/index.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

const num = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const str = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const PROCS = num('--procs', 400);
/**
 * Of the padding, this many compute in short bursts (≈ 5–15 % of a core
 * each, multi-threaded work is not needed): the agent samples busy
 * processes once a second for the behaviour model, idle ones not at all.
 */
const BUSY = num('--busy', 0);
const SECONDS = num('--seconds', 120);
const SOCKETS = num('--sockets', 100);
const RUNS = num('--runs', 1);
/** Scans not counted: start-up, enrolment, and the first reads of everything. */
const WARMUP = num('--warmup', 1);
const WINDOW = str('--window');
// The CLI's own default is the server's setting (60 s on a fresh server), else 10 s: ask for 10 s.
const INTERVAL = str('--interval') ?? '10s';
const MODE = str('--mode') ?? 'both';
/** The bundle to run (default dist/deminer.mjs; another build must sit inside the package, e.g. under node_modules/.cache). */
const BUNDLE = str('--bundle') ?? join(REPO, 'dist', 'deminer.mjs');
/** Writes a V8 CPU profile of each agent run into this folder (node --cpu-prof). */
const PROF_DIR = str('--cpu-prof-dir');

const CLK_TCK = 100;
/** How long the padding sleeps: longer than every run (they are killed at the end anyway). */
const LIFE_S = 600 + SECONDS * RUNS * 3;
const POLL_MS = 250;

type Mode = 'tsx' | 'bundle';

// ---- padding: real processes, killed on every way out -------------------------------------

const children: ChildProcess[] = [];
const sockets: Socket[] = [];
let listener: Server | undefined;
let agent: ChildProcess | undefined;

function killAll(): void {
  agent?.kill('SIGKILL');
  for (const c of children) c.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  listener?.close();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });

function countPids(): number {
  let n = 0;
  for (const name of readdirSync('/proc')) if (/^\d+$/.test(name)) n++;
  return n;
}

async function pad(): Promise<void> {
  listener = createServer((s) => {
    s.on('error', () => {});
    sockets.push(s);
  });
  const l = listener;
  await new Promise<void>((r) => l.listen(0, '127.0.0.1', r));
  const port = (l.address() as { port: number }).port;
  // Other jobs' short-lived processes come and go: top up once after the first round.
  for (let round = 0; round < 2; round++) {
    const want = Math.max(0, PROCS - countPids());
    for (let k = 0; k < want; k++) await spawnPadding(port, children.length);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function spawnPadding(port: number, i: number): Promise<void> {
  // Varied command lines (no two alike), and a second program.
  const [cmd, args]: [string, string[]] =
    i < BUSY
      ? [
          'sh',
          ['-c', `while :; do i=0; while [ $i -lt ${3000 + 500 * i} ]; do i=$((i+1)); done; sleep 0.1; done`],
        ]
      : i % 10 === 9
        ? ['tail', ['-f', '-s', String(60 + i), '/dev/null']]
        : ['sleep', [String(LIFE_S), `0.${i}`]];
  const stdio: ('ignore' | Socket)[] = ['ignore', 'ignore', 'ignore'];
  if (i < SOCKETS) {
    // The child holds a loopback connection as its fd 3, so it owns a socket in the tables.
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise<void>((r, j) => {
      s.once('connect', () => r());
      s.once('error', j);
    });
    sockets.push(s);
    stdio.push(s);
  }
  children.push(spawn(cmd, args, { stdio }));
}

// ---- the agent process ------------------------------------------------------------------

function cpuTicks(pid: number): number | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime); f[0] is field 3.
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** ActiveOpens + PassiveOpens of this network namespace: how busy the host's TCP is. */
function tcpOpens(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Tcp:'));
  const names = lines[0]?.split(' ') ?? [];
  const values = lines[1]?.split(' ') ?? [];
  return Number(values[names.indexOf('ActiveOpens')]) + Number(values[names.indexOf('PassiveOpens')]);
}

function memKb(pid: number): { rss: number; hwm: number } {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

interface RunResult {
  mode: Mode;
  processes: number;
  cycles: number;
  seconds: number;
  cpuPct: number;
  perCycleMs: number[];
  /** TCP connections opened and accepted on this host per second during the run (all processes). */
  tcpOpensPerS: number;
  peakRssMb: number;
  maxRssAfterWarmupMb: number;
  finalRssMb: number;
  load: number;
}

async function hostMetricTimes(server: RunningServer): Promise<string[]> {
  const hosts = await server.store.listHosts({});
  const h = hosts.items[0];
  if (!h) return [];
  const m = await server.store.listMetrics({ hostId: h.id, subject: 'host', limit: 10_000 });
  return m.map((x) => x.at).sort();
}

async function runOnce(mode: Mode): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'deminer-agent-cost-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: join(dir, 'data'), logger: false });
  try {
    const { secret } = await server.store.createEnrolment({
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      uses: 1,
      createdBy: 'bench',
    });
    const args = ['agent', '--server', server.url, '--enroll', secret, '--state', join(dir, 'state')];
    if (WINDOW) args.push('--window', WINDOW);
    args.push('--interval', INTERVAL);
    const entry = mode === 'bundle' ? join(REPO, 'bench/agent/run-bundle.mjs') : join(REPO, 'bin/deminer.js');
    const env = {
      ...process.env,
      ...(mode === 'tsx' ? { DEMINER_FROM_SOURCE: '1' } : { DEMINER_BENCH_BUNDLE: BUNDLE }),
    };
    const prof = PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : [];
    const child = spawn(process.execPath, [...prof, entry, ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    agent = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const pid = child.pid!;

    // Warm-up: the first scans (start-up, enrolment, first reads of everything) are not counted.
    const waitForScans = async (n: number, timeoutMs: number): Promise<string[]> => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        if (exited) throw new Error(`the agent exited: ${stderr}`);
        const times = await hostMetricTimes(server);
        if (times.length >= n) return times;
        if (Date.now() > end) throw new Error(`no scan ${n} within ${timeoutMs} ms: ${stderr}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    };
    let seen = (await waitForScans(WARMUP, 120_000 * WARMUP)).length;
    const t0 = performance.now();
    const c0 = cpuTicks(pid)!;
    const opens0 = tcpOpens();
    const marks: number[] = [c0];
    let maxRss = 0;
    let processes = 0;
    // Whole cycles: start right after a scan is delivered, stop right after the first one past SECONDS.
    for (;;) {
      const times = await waitForScans(seen + 1, 120_000);
      seen = times.length;
      marks.push(cpuTicks(pid)!);
      maxRss = Math.max(maxRss, memKb(pid).rss);
      processes = Math.max(processes, countPids());
      if (performance.now() - t0 >= SECONDS * 1000) break;
    }
    const t1 = performance.now();
    const c1 = marks.at(-1)!;
    const opens1 = tcpOpens();
    const mem = memKb(pid);
    child.kill('SIGTERM');
    await new Promise<void>((r) => {
      if (exited) r();
      else child.once('exit', () => r());
      setTimeout(() => {
        child.kill('SIGKILL');
        r();
      }, 10_000).unref();
    });
    agent = undefined;
    const perCycleMs: number[] = [];
    for (let i = 1; i < marks.length; i++) perCycleMs.push(((marks[i]! - marks[i - 1]!) * 1000) / CLK_TCK);
    return {
      mode,
      processes,
      cycles: marks.length - 1,
      seconds: (t1 - t0) / 1000,
      cpuPct: ((((c1 - c0) / CLK_TCK) * 1000) / (t1 - t0)) * 100,
      perCycleMs,
      tcpOpensPerS: ((opens1 - opens0) * 1000) / (t1 - t0),
      peakRssMb: mem.hwm / 1024,
      maxRssAfterWarmupMb: maxRss / 1024,
      finalRssMb: mem.rss / 1024,
      load: loadavg()[0]!,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const modes: Mode[] = [];
  const bundleExists = (() => {
    try {
      return statSync(BUNDLE).isFile();
    } catch {
      return false;
    }
  })();
  if (MODE === 'both' || MODE === 'tsx') modes.push('tsx');
  if ((MODE === 'both' || MODE === 'bundle') && bundleExists) modes.push('bundle');
  if (MODE !== 'tsx' && !bundleExists)
    console.log('# no dist/deminer.mjs (npm run build): bundle not measured');
  await pad();
  console.log(
    `# host padded to ${countPids()} processes (${children.length} children, ${Math.min(SOCKETS, children.length)} holding a loopback connection, ${Math.min(BUSY, children.length)} busy); ` +
      `agent interval ${INTERVAL}, window ${WINDOW ?? '1s (default)'}; ${SECONDS} s per run after ${WARMUP} warm-up scan(s); bundle: ${BUNDLE}`,
  );
  const results: RunResult[] = [];
  for (let r = 0; r < RUNS; r++)
    for (const m of modes) {
      const res = await runOnce(m);
      results.push(res);
      console.log(
        `# ${m} run ${r + 1}: per-cycle CPU ms ${res.perCycleMs.map((x) => x.toFixed(0)).join(' ')}`,
      );
    }
  const head = [
    'agent',
    'processes',
    'cycles',
    'CPU % of one core',
    'CPU ms / cycle (median)',
    'peak RSS (VmHWM)',
    'max RSS after warm-up',
    'final RSS',
    'host TCP opens/s',
    'load avg',
  ];
  const rows = results.map((r) => [
    r.mode === 'tsx' ? 'tsx (sources)' : 'bundle',
    String(r.processes),
    `${r.cycles} in ${r.seconds.toFixed(0)} s`,
    `${r.cpuPct.toFixed(2)} %`,
    `${median(r.perCycleMs).toFixed(0)} ms`,
    `${r.peakRssMb.toFixed(0)} MB`,
    `${r.maxRssAfterWarmupMb.toFixed(0)} MB`,
    `${r.finalRssMb.toFixed(0)} MB`,
    r.tcpOpensPerS.toFixed(1),
    r.load.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

try {
  await main();
} finally {
  killAll();
}
