/**
 * Test harness for the miner simulator: builds it, runs a local stratum pool,
 * starts simulated miners, and runs `deminer` as a user would.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SIM_SOURCE = fileURLToPath(new URL('./miner-sim.c', import.meta.url));
const POOL_SCRIPT = fileURLToPath(new URL('./stratum-pool.mjs', import.meta.url));

export const WALLET =
  '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';

/** Why the simulator tests cannot run here, or undefined when they can. */
export function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return 'the host scanner reads /proc: Linux only';
  if (spawnSync('gcc', ['--version']).status !== 0)
    return 'gcc is not installed (apt-get install gcc libc6-dev; .ci/run does)';
  return undefined;
}

export function cannotNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  return undefined;
}

let built: string | undefined;
const cleanups: (() => void)[] = [];

export function buildSim(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'deminer-sim-build-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'miner-sim');
  execFileSync('gcc', ['-O1', '-o', out, SIM_SOURCE]);
  built = out;
  return out;
}

/** Copies the simulator to `dir/name`, as a dropper would. */
export function dropSim(dir: string, name: string): string {
  const target = join(dir, name);
  copyFileSync(buildSim(), target);
  execFileSync('chmod', ['755', target]);
  return target;
}

export function waitForLine(child: ChildProcess, prefix: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for "${prefix}" (got: ${buf.slice(0, 500)})`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith(prefix));
      if (line) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(line);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before "${prefix}": ${buf.slice(0, 500)}`));
    });
  });
}

export interface Pool {
  port: number;
  child: ChildProcess;
  logins: string[];
}

/** Starts the stratum pool, optionally inside a network namespace. */
export async function startPool(opts: { port?: number; netns?: string } = {}): Promise<Pool> {
  const args = [POOL_SCRIPT, '--port', String(opts.port ?? 0)];
  const child = opts.netns
    ? spawn('ip', ['netns', 'exec', opts.netns, process.execPath, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  const logins: string[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.startsWith('LOGIN ')) logins.push(l.slice(6));
  });
  const line = await waitForLine(child, 'LISTENING ');
  return { port: Number(line.split(' ')[1]), child, logins };
}

export interface SimOptions {
  exe: string;
  argv0?: string;
  args?: string[];
  env: Record<string, string>;
  netns?: string;
  cwd?: string;
}

export async function startSim(o: SimOptions): Promise<{ pid: number; child: ChildProcess }> {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SIM_SECONDS: '90', ...o.env };
  const child = o.netns
    ? spawn('ip', ['netns', 'exec', o.netns, o.exe, ...(o.args ?? [])], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: o.cwd,
      })
    : spawn(o.exe, o.args ?? [], {
        env,
        argv0: o.argv0 ?? o.exe,
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: o.cwd,
      });
  track(child);
  const line = await waitForLine(child, 'READY ');
  return { pid: Number(line.split(' ')[1]), child };
}

function track(child: ChildProcess): void {
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
}

export function cleanup(): void {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {
      // Best effort: a test must not fail on teardown of what already exited.
    }
  }
  built = undefined;
}

export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

export interface DeminerRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `deminer` bin as a user would. */
export function runDeminer(args: string[], opts: { timeoutMs?: number } = {}): Promise<DeminerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/deminer.js'), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`deminer ${args.join(' ')} timed out`));
    }, opts.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}
